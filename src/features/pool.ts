import os from 'node:os';
import type { Worker } from 'node:worker_threads';
import { BeeError } from '../errors.js';
import { ClipFeaturizer, type ClipSource } from './featurize.js';
import type { ChunkRequest, ChunkResult } from './featurize-worker.js';
import { frameCount, type FeatureParams } from './params.js';
import { siblingModule, spawnWorker } from '../util/worker.js';

export interface FeaturizeResult {
  /** clips.length x featureSize; rows of failed clips are zero */
  data: Float32Array;
  /** index into clips -> reason */
  errors: Map<number, string>;
}

export interface FeaturizeOptions {
  /** Worker threads; default: one per core. 0 computes on the calling thread. */
  workers?: number;
  onProgress?: (done: number) => void;
}

const CHUNK = 32;

/** Featurizes clips on all cores, in order. Undecodable clips are reported, never fatal. */
export async function featurizeClips(clips: ClipSource[], params: FeatureParams, options: FeaturizeOptions = {}): Promise<FeaturizeResult> {
  const size = frameCount(params) * params.melBins;
  const data = new Float32Array(clips.length * size);
  const errors = new Map<number, string>();
  const workers = Math.min(options.workers ?? os.availableParallelism(), Math.ceil(clips.length / CHUNK));
  let done = 0;

  if (workers <= 0) {
    const featurizer = new ClipFeaturizer(params);
    clips.forEach((clip, i) => {
      try {
        data.set(featurizer.featurize(clip), i * size);
      } catch (err) {
        if (!(err instanceof BeeError)) throw err; // a bug, not a bad file
        errors.set(i, err.reason);
      }
      options.onProgress?.(++done);
    });
    return { data, errors };
  }

  let next = 0;
  const feed = (worker: Worker): boolean => {
    if (next >= clips.length) return false;
    const request: ChunkRequest = { first: next, clips: clips.slice(next, next + CHUNK).map(({ file, window }) => ({ file, window })) };
    next += CHUNK;
    worker.postMessage(request);
    return true;
  };
  const pool = Array.from({ length: workers }, () => spawnWorker(siblingModule(import.meta.url, 'featurize-worker'), params));
  try {
    await Promise.all(
      pool.map(
        (worker) =>
          new Promise<void>((resolve, reject) => {
            worker.on('message', (result: ChunkResult) => {
              data.set(result.data, result.first * size);
              for (const { index, reason } of result.errors) errors.set(index, reason);
              done += result.data.length / size;
              options.onProgress?.(done);
              if (!feed(worker)) resolve();
            });
            worker.on('error', reject);
            worker.on('exit', (code) => reject(new Error(`featurization worker exited with code ${code}`)));
            feed(worker);
          }),
      ),
    );
  } finally {
    await Promise.all(pool.map((worker) => worker.terminate()));
  }
  return { data, errors };
}
