// Worker thread: keeps the training clips' waveforms and turns augmented copies into features,
// one batch ahead of the training step running on the main thread.
import { parentPort, workerData } from 'node:worker_threads';
import { readWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { type ClipSource, ClipFeaturizer } from '../features/featurize.js';
import type { FeatureParams } from '../features/params.js';
import { applyAugmentation, applyMasks, type ClipAugmentation } from './augment.js';

export interface AugmentWorkerData {
  params: FeatureParams;
  clips: ClipSource[];
  noiseFiles: string[];
}

export interface AugmentRequest {
  id: number;
  items: { clip: number; aug: ClipAugmentation }[];
}

export interface AugmentResult {
  id: number;
  features: Float32Array;
}

const { params, clips, noiseFiles } = workerData as AugmentWorkerData;
const featurizer = new ClipFeaturizer(params);
const waveforms = clips.map((clip) => featurizer.samples(clip));
const noises = noiseFiles.map((file) => {
  const audio = readWav(file);
  return resample(audio.samples, audio.sampleRate, params.sampleRate);
});
parentPort!.postMessage({ ready: true, noiseLengths: noises.map((n) => n.length) });

parentPort!.on('message', ({ id, items }: AugmentRequest) => {
  const size = featurizer.featureSize;
  const features = new Float32Array(items.length * size);
  items.forEach(({ clip, aug }, i) => {
    const clipFeatures = featurizer.features(applyAugmentation(waveforms[clip], aug, noises));
    if (aug.masks) applyMasks(clipFeatures, aug.masks, params.melBins);
    features.set(clipFeatures, i * size);
  });
  parentPort!.postMessage({ id, features } satisfies AugmentResult, [features.buffer]);
});
