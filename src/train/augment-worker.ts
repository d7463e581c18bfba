// Worker thread: keeps the training clips' waveforms and turns augmented copies into features,
// one batch ahead of the training step running on the main thread.
import os from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { readWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { type ClipSource, ClipFeaturizer } from '../features/featurize.js';
import type { FeatureParams } from '../features/params.js';
import { speakSentences, TRAINING_SENTENCES } from '../synth/sentences.js';
import { applyAugmentation, applyMasks, type ClipAugmentation, SENTENCE_SEED, SENTENCE_VOICES } from '../data/augment.js';

export interface AugmentWorkerData {
  params: FeatureParams;
  clips: ClipSource[];
  noiseFiles: string[];
  /** synthesize TRAINING_SENTENCES for synthesized negatives (item clip >= clips.length: sentence clip - clips.length) */
  sentences: boolean;
}

export interface AugmentRequest {
  id: number;
  items: { clip: number; aug: ClipAugmentation }[];
}

export interface AugmentResult {
  id: number;
  features: Float32Array;
}

// The training step's native threads fill the cores, and a worker that preempts one of them
// stalls the others at the op's end: at the lowest priority (Linux sets it per thread) the worker
// runs in the step's gaps and while the step waits for its batch (epochs 1.07-1.13x faster on 2
// cores, docs/training-speed.md).
os.setPriority(19);

const { params, clips, noiseFiles, sentences } = workerData as AugmentWorkerData;
const featurizer = new ClipFeaturizer(params);
const waveforms = clips.map((clip) => featurizer.samples(clip));
const noises = noiseFiles.map((file) => {
  const audio = readWav(file);
  return resample(audio.samples, audio.sampleRate, params.sampleRate);
});
const spoken = sentences ? speakSentences(TRAINING_SENTENCES, SENTENCE_VOICES, SENTENCE_SEED, params.sampleRate) : [];
parentPort!.postMessage({ ready: true, noiseLengths: noises.map((n) => n.length), sentenceLengths: spoken.map((x) => x.length) });

/** A clip's waveform: a training clip, or a 1 s window of a synthesized sentence (zero-padded where it is shorter). */
function waveformOf(clip: number, aug: ClipAugmentation): Float32Array {
  if (clip < waveforms.length) return waveforms[clip];
  const sentence = spoken[clip - waveforms.length];
  const out = new Float32Array(params.clipSamples);
  out.set(sentence.subarray(aug.crop ?? 0, (aug.crop ?? 0) + params.clipSamples));
  return out;
}

parentPort!.on('message', ({ id, items }: AugmentRequest) => {
  const size = featurizer.featureSize;
  const features = new Float32Array(items.length * size);
  items.forEach(({ clip, aug }, i) => {
    const clipFeatures = featurizer.features(applyAugmentation(waveformOf(clip, aug), aug, noises, params.sampleRate));
    if (aug.masks) applyMasks(clipFeatures, aug.masks, params.melBins);
    features.set(clipFeatures, i * size);
  });
  parentPort!.postMessage({ id, features } satisfies AugmentResult, [features.buffer]);
});
