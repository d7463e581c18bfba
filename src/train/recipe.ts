import { BeeError } from '../errors.js';
import { DEFAULT_NETWORK } from '../model/network.js';
import { LEGACY_NETWORK, type NetworkChoice } from '../spec/network-config.js';

/**
 * The training recipe: how the learning rate and the exits' loss weights move over a run, and the
 * defaults that depend on the data. Pure functions of the step or epoch, so a run stopped and
 * resumed follows the same curve as a straight one.
 */

export type Schedule = 'constant' | 'cosine';

export interface ScheduleOptions {
  schedule: Schedule;
  learningRate: number;
  /** epochs of linear warmup up to learningRate (0: none; a run shorter than that warms up all along) */
  warmupEpochs: number;
}

/** How a run trains, beyond its data, length and seed. */
export interface RecipeOptions extends ScheduleOptions {
  /** epochs over which the early exits' loss weights ramp up to their weights (0: from the start) */
  exitRampEpochs: number;
  /** weight of the distillation term (0: none); the teacher is `teacher`'s last exit, else the network's own last exit */
  distill: number;
  distillTemperature: number;
  /** a saved bee model (directory) whose last exit teaches every exit */
  teacher?: string;
  /** a weight (> 0) on the loss of a class's examples, by label (absent: 1); bee train --class-weights */
  classWeights?: Record<string, number>;
  /** the network's parts beyond precision and width */
  network: NetworkChoice;
  /** which checkpoint is `best`: the highest mean of the exits' validation accuracies, or the last exit's */
  selection: 'mean-exit' | 'last-exit';
}

/** The recipe a run gets unless told otherwise; docs/recipe.md's ablation measures each part. */
export const DEFAULT_RECIPE: Omit<RecipeOptions, 'teacher'> = {
  learningRate: 3e-3,
  schedule: 'cosine',
  warmupEpochs: 2,
  exitRampEpochs: 0,
  distill: 0,
  distillTemperature: 3,
  network: DEFAULT_NETWORK,
  selection: 'mean-exit',
};

/** What a run saved before these options existed did (its learning rate was always saved). */
export const LEGACY_RECIPE: Omit<RecipeOptions, 'teacher' | 'learningRate'> = {
  schedule: 'constant',
  warmupEpochs: 0,
  exitRampEpochs: 0,
  distill: 0,
  distillTemperature: 1,
  network: LEGACY_NETWORK,
  selection: 'last-exit',
};

/**
 * The learning rate of step `step` (0-based) of `totalSteps`: a linear warmup over the first
 * warmupEpochs (from learningRate / (warmup steps + 1)), then constant, or a cosine decay that
 * would reach 0 at step totalSteps (Loshchilov & Hutter, SGDR; the usual recipe for binary
 * networks, e.g. Bi-Real Net and ReActNet decay to 0).
 */
export function learningRateAt(o: ScheduleOptions, step: number, stepsPerEpoch: number, totalSteps: number): number {
  const warmup = Math.min(Math.round(o.warmupEpochs * stepsPerEpoch), totalSteps - 1);
  if (step < warmup) return (o.learningRate * (step + 1)) / (warmup + 1);
  if (o.schedule === 'constant') return o.learningRate;
  const progress = (step - warmup) / Math.max(1, totalSteps - warmup);
  return o.learningRate * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * The learning rate of step `step` of a run whose schedule spans its first scheduleEpochs (the
 * --epochs it started with). Resumed past them (`--resume --epochs N` with a larger N), the added
 * epochs get a cycle of their own without warmup, as SGDR's warm restarts do, rather than a
 * schedule stretched under the epochs already trained.
 */
export function runLearningRate(o: ScheduleOptions & { epochs: number; scheduleEpochs: number }, step: number, stepsPerEpoch: number): number {
  const scheduled = o.scheduleEpochs * stepsPerEpoch;
  if (step < scheduled) return learningRateAt(o, step, stepsPerEpoch, scheduled);
  return learningRateAt({ ...o, warmupEpochs: 0 }, step - scheduled, stepsPerEpoch, (o.epochs - o.scheduleEpochs) * stepsPerEpoch);
}

/**
 * The exits' loss weights in epoch `epoch` (1-based): every exit but the last ramps linearly from
 * 1/rampEpochs of its weight to all of it over the first rampEpochs (SDN, Kaya et al. 2019, ramps
 * its early-exit weights the same way), so the shared blocks first learn what the last exit needs.
 */
export function exitWeightsAt(weights: number[], rampEpochs: number, epoch: number): number[] {
  if (rampEpochs <= 0) return weights;
  const share = Math.min(1, epoch / rampEpochs);
  return weights.map((w, k) => (k < weights.length - 1 ? w * share : w));
}

/**
 * The batch size when none is given: 128 (the paper's) where the train split has enough clips for
 * 50 steps an epoch, else the largest of 64 and 32 that gets closest: on small data a binary
 * network needs optimizer steps more than it needs big batches (3,646 clips: 29 steps of 128, 57 of 64).
 */
export function defaultBatchSize(trainClips: number): number {
  for (const size of [128, 64]) if (trainClips / size >= 50) return size;
  return 32;
}

/** Negative or non-finite warmups, ramps and weights, a teacher without distillation: one line each. */
export function checkRecipe(
  o: ScheduleOptions & { exitRampEpochs: number; distill: number; distillTemperature: number; teacher?: string; classWeights?: Record<string, number> },
): void {
  if (!(o.warmupEpochs >= 0 && Number.isFinite(o.warmupEpochs)))
    throw new BeeError(`warmup must be >= 0 epochs, got ${o.warmupEpochs}`, { hint: 'e.g. --warmup-epochs 2' });
  if (!(o.exitRampEpochs >= 0 && Number.isFinite(o.exitRampEpochs))) throw new BeeError(`exit-weight ramp must be >= 0 epochs, got ${o.exitRampEpochs}`);
  if (!(o.distill >= 0 && Number.isFinite(o.distill))) throw new BeeError(`distillation weight must be >= 0, got ${o.distill}`, { hint: 'e.g. --distill 1' });
  if (!(o.distillTemperature > 0 && Number.isFinite(o.distillTemperature)))
    throw new BeeError(`distillation temperature must be > 0, got ${o.distillTemperature}`, { hint: 'e.g. --distill-temperature 3' });
  if (o.teacher && !(o.distill > 0))
    throw new BeeError('a teacher teaches through the distillation term, which is off', { hint: 'pass --distill 1 (or more) with --teacher' });
  for (const [label, w] of Object.entries(o.classWeights ?? {}))
    if (!(w > 0 && Number.isFinite(w)))
      throw new BeeError(`class weight of ${label} must be a finite number > 0, got ${w}`, { hint: 'e.g. --class-weights _unknown_=2' });
}
