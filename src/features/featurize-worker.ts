// Worker thread: featurizes the chunks of clips the pool hands it.
import { parentPort, workerData } from 'node:worker_threads';
import { BeeError } from '../errors.js';
import { ClipFeaturizer, type ClipSource } from './featurize.js';
import type { FeatureParams } from './params.js';

export interface ChunkRequest {
  first: number;
  clips: ClipSource[];
}

export interface ChunkResult {
  first: number;
  /** clips.length x featureSize; a failed clip's rows are left zero */
  data: Float32Array;
  errors: { index: number; reason: string }[];
}

const featurizer = new ClipFeaturizer(workerData as FeatureParams);

parentPort!.on('message', ({ first, clips }: ChunkRequest) => {
  const size = featurizer.featureSize;
  const data = new Float32Array(clips.length * size);
  const errors: ChunkResult['errors'] = [];
  clips.forEach((clip, i) => {
    try {
      data.set(featurizer.featurize(clip), i * size);
    } catch (err) {
      if (!(err instanceof BeeError)) throw err; // a bug, not a bad file: fail the pool
      errors.push({ index: first + i, reason: err.reason });
    }
  });
  parentPort!.postMessage({ first, data, errors } satisfies ChunkResult, [data.buffer]);
});
