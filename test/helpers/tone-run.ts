// The shared setup of the regression tests from the hostile-input pass (issue 11): the tone dataset,
// its features in a feature cache, and a tiny run trained on it for one epoch. Each test file that
// needs them builds its own in before(), in a few seconds.
import path from 'node:path';
import { initBackend } from '../../src/backend/backend.ts';
import { loadDataset, type Dataset } from '../../src/data/dataset.ts';
import { loadFeatures, type FeatureTable } from '../../src/data/feature-cache.ts';
import { PAPER_FEATURES } from '../../src/features/params.ts';
import type { RunInput } from '../../src/train/run-options.ts';
import { train } from '../../src/train/trainer.ts';
import { tempDir } from './datasets.ts';
import { makeToneDataset } from './tones.ts';

/** The options of the tiny run. */
export const TONE_OPTIONS: RunInput = {
  epochs: 1,
  batchSize: 16,
  learningRate: 3e-3,
  exitWeights: [1, 1, 1, 1],
  seed: 3,
  precision: 'binary',
  width: 0.125,
  augment: false,
};

/** A new tone dataset (3 classes, 12 speakers, 2 clips each): its root. */
export function toneRoot(): string {
  const root = tempDir('bee-tones-');
  makeToneDataset(root, undefined, 12, 2);
  return root;
}

/** bee train's flags for a tiny run on the tone dataset at `root`. */
export function toneRunFlags(root: string): string[] {
  return ['--data', root, '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20', '--width', '0.125'];
}

export interface ToneData {
  root: string;
  dataset: Dataset;
  /** its features, saved in the feature cache */
  table: FeatureTable;
}

/** A tone dataset, split as toneRunFlags splits it, with its features saved in `cache` (the backend ready). */
export async function toneData(cache: string): Promise<ToneData> {
  await initBackend();
  const root = toneRoot();
  const dataset = loadDataset(root, { split: { salt: 'bee', validationPercent: 20, testPercent: 20 } });
  const table = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir: cache });
  return { root, dataset, table };
}

/** toneData, and `run`: a run directory trained on it with TONE_OPTIONS. */
export async function toneRun(cache: string): Promise<ToneData & { run: string }> {
  const data = await toneData(cache);
  const run = path.join(tempDir(), 'run');
  await train({ dataset: data.dataset, table: data.table, out: run, options: TONE_OPTIONS });
  return { ...data, run };
}
