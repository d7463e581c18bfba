import type { AugmentOptions } from '../data/augment.js';
import type { Dataset } from '../data/dataset.js';
import type { FeatureTable } from '../data/feature-cache.js';
import { BeeError } from '../errors.js';
import type { Precision } from '../model/network.js';
import type { ExitMetrics } from './exit-metrics.js';
import { checkRecipe, type DEFAULT_RECIPE, type RecipeOptions } from './recipe.js';

// A training run's contracts: what defines it, what it reports as it goes, what it returns.

/** What defines a run; saved in every checkpoint, so --resume continues the same run. */
export interface RunOptions extends RecipeOptions {
  epochs: number;
  batchSize: number;
  exitWeights: number[];
  seed: number;
  precision: Precision;
  width: number;
  /** false: no augmentation */
  augment: AugmentOptions | false;
  /** Background-noise recordings for augmentation (default: the dataset's own). */
  noiseFiles?: string[];
  /** the epochs the learning-rate schedule spans: the run's --epochs when it started */
  scheduleEpochs: number;
  /** a trained model directory whose network and weights the run starts from, all but the exits' output layers (bee train --from) */
  from?: string;
}

export interface EpochRecord {
  epoch: number;
  seconds: number;
  /** where the epoch's seconds went (absent in runs saved before it existed) */
  timing?: EpochTiming;
  examplesPerSecond: number;
  train: { loss: number; lossPerExit: number[]; accuracy: number[] };
  validation: ExitMetrics | null;
  best: boolean;
}

/** An epoch's seconds by part: training steps, waits for the augmentation worker's batches, validation (the rest: the loop's own). */
export interface EpochTiming {
  steps: number;
  batchWaits: number;
  validation: number;
}

export interface BatchInfo {
  epoch: number;
  step: number;
  steps: number;
  loss: number;
  accuracy: number[];
  examplesPerSecond: number;
}

export interface TrainCallbacks {
  onEpochStart?(epoch: number, steps: number): void;
  onBatch?(info: BatchInfo): void;
  onEpochEnd?(record: EpochRecord): void;
  onStatus?(message: string): void;
  /** Polled between steps: true stops after the current step (the last complete epoch is saved). */
  shouldStop?(): boolean;
}

/** A run's options as given: the recipe's fields default to DEFAULT_RECIPE, the schedule spans the run's epochs. */
export type RunInput = Omit<RunOptions, keyof typeof DEFAULT_RECIPE | 'scheduleEpochs' | 'batchSize'> &
  Partial<typeof DEFAULT_RECIPE> & {
    /** auto: defaultBatchSize of the train split */
    batchSize: number | 'auto';
  };

export interface TrainInput {
  dataset: Dataset;
  table: FeatureTable;
  out: string;
  options: RunInput;
  /** Continue the run saved in `out` (its options win, but for `epochs`). */
  resume?: boolean;
  callbacks?: TrainCallbacks;
}

export interface TrainResult {
  out: string;
  history: EpochRecord[];
  best: { epoch: number; metric: number } | null;
  /** Every exit on the test split, with the best checkpoint (absent when stopped or without a test split). */
  test: ExitMetrics | null;
  stopped: boolean;
}

/** Refuses options no run can train with (the recipe's own checks included). */
export function checkOptions(o: RunOptions): void {
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1)) throw new BeeError(`epochs must be a whole number >= 1, got ${o.epochs}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new BeeError(`batch size must be a whole number >= 1, got ${o.batchSize}`);
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate))) throw new BeeError(`learning rate must be a finite number > 0, got ${o.learningRate}`);
  if (o.exitWeights.length === 0 || o.exitWeights.some((w) => !(w >= 0 && Number.isFinite(w))) || o.exitWeights.every((w) => w === 0)) {
    throw new BeeError(`exit weights must be numbers >= 0, one per exit, not all 0, got ${o.exitWeights.join(',')}`, { hint: 'e.g. --exit-weights 1,1,1,1' });
  }
  checkRecipe(o);
}
