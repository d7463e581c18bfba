import * as tf from '@tensorflow/tfjs';
import type { SplitExamples } from '../data/split-examples.js';
import { BeeError } from '../errors.js';
import { rngFor, shuffle } from '../util/rng.js';
import type { AugmentFeeder } from './augment-feeder.js';
import { exitWeightsAt, runLearningRate } from './recipe.js';
import type { RunOptions, TrainCallbacks } from './run-options.js';
import type { trainStep } from './train-step.js';

/** What an epoch's steps read: the step, its optimizer and options, the examples and where their features come from. */
export interface EpochSteps {
  step: ReturnType<typeof trainStep>;
  optimizer: tf.Optimizer;
  options: RunOptions;
  train: SplitExamples;
  /** the whole feature table in one tensor (without augmentation, a batch is a gather on the backend, no copy in JS) */
  allFeatures: tf.Tensor2D;
  /** [frames, mel bins, 1] */
  shape: number[];
  exits: number;
  /** class indices of _unknown_ (cut words and synthesized negatives are labelled so) and _silence_, or -1 */
  unknown: number;
  silence: number;
  feeder?: AugmentFeeder;
  callbacks: TrainCallbacks;
  out: string;
}

/** An epoch's sums over its examples, for the epoch's record. */
export interface EpochTotals {
  seen: number;
  lossSum: number;
  lossPerExit: number[];
  correct: number[];
  seconds: number;
  /** of which: in training steps, and waiting for the augmentation worker's batches */
  stepSeconds: number;
  waitSeconds: number;
}

/** Training that diverged: a one-line error that says what is kept. */
export function diverged(out: string, what: string, lastSaved: number): BeeError {
  const kept = lastSaved > 0 ? `epoch ${lastSaved}'s checkpoint is kept (last)` : 'nothing was saved';
  return new BeeError(`training stopped: ${what}`, { file: out, hint: `${kept}; try a lower --lr, or look for broken clips with bee data info` });
}

/** Adam reads its (protected) learning rate at every update: the schedule sets it before each step. */
function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}

/**
 * One epoch's steps: the train split (and, with synthesized negatives, as many sentences as the
 * recipe asks) in a seeded order, a batch at a time, each at the schedule's learning rate.
 * `lastSaved`: the epoch whose checkpoint a divergence keeps. Null where `shouldStop` stopped it.
 */
export async function runEpoch(r: EpochSteps, epoch: number, lastSaved: number): Promise<EpochTotals | null> {
  const { options, train, feeder, exits, unknown, silence, callbacks } = r;
  // synthesized negatives (AugmentOptions.synthNegatives): ids from train.rows.length on, one sentence each, labelled _unknown_
  const extraPerEpoch = options.augment ? Math.round((options.augment.synthNegatives ?? 0) * train.rows.length) : 0;
  const stepsPerEpoch = Math.ceil((train.rows.length + extraPerEpoch) / options.batchSize);
  const sentences = feeder?.sentenceLengths.length ?? 0;
  const extraRng = rngFor(options.seed, epoch, 3);
  const extra = Array.from({ length: sentences ? extraPerEpoch : 0 }, () => train.rows.length + Math.floor(extraRng() * sentences));
  const order = shuffle([...train.rows.map((_, i) => i), ...extra], rngFor(options.seed, epoch, 1));
  const steps = Math.ceil(order.length / options.batchSize);
  const batches = Array.from({ length: steps }, (_, s) => order.slice(s * options.batchSize, (s + 1) * options.batchSize));
  // a cut word (AugmentOptions.cutWords) is _unknown_; silence and _unknown_ clips are not cut
  feeder?.beginEpoch(batches, rngFor(options.seed, epoch, 2), (i) => train.labels[i] !== unknown && train.labels[i] !== silence);
  const labelOf = (i: number) => (i >= train.rows.length ? unknown : train.labels[i]);
  callbacks.onEpochStart?.(epoch, steps);
  const started = performance.now();
  const totals: EpochTotals = {
    seen: 0,
    lossSum: 0,
    lossPerExit: new Array<number>(exits).fill(0),
    correct: new Array<number>(exits).fill(0),
    seconds: 0,
    stepSeconds: 0,
    waitSeconds: 0,
  };
  const exitWeights = exitWeightsAt(options.exitWeights, options.exitRampEpochs, epoch);
  for (let s = 0; s < steps; s++) {
    setLearningRate(r.optimizer, runLearningRate(options, (epoch - 1) * stepsPerEpoch + s, stepsPerEpoch));
    const batch = batches[s];
    const waited = performance.now();
    const fed = await feeder?.next();
    const stepped = performance.now();
    totals.waitSeconds += (stepped - waited) / 1000;
    const batchLabels = Int32Array.from(batch, (i, k) => (fed?.cut[k] ? unknown : labelOf(i)));
    const x = fed
      ? tf.tensor4d(fed.features, [batch.length, ...r.shape] as [number, number, number, number])
      : tf.tidy(() =>
          tf.reshape(
            tf.gather(
              r.allFeatures,
              Int32Array.from(batch, (i) => train.rows[i]),
            ),
            [batch.length, ...r.shape],
          ),
        );
    const stats = r.step(x, batchLabels, exitWeights);
    x.dispose();
    totals.stepSeconds += (performance.now() - stepped) / 1000;
    if (!Number.isFinite(stats[0])) throw diverged(r.out, `the loss became ${stats[0]} at epoch ${epoch}, step ${s + 1}`, lastSaved);
    totals.lossSum += stats[0] * batch.length;
    for (let k = 0; k < exits; k++) {
      totals.lossPerExit[k] += stats[1 + k] * batch.length;
      totals.correct[k] += stats[1 + exits + k];
    }
    totals.seen += batch.length;
    const elapsed = (performance.now() - started) / 1000;
    callbacks.onBatch?.({
      epoch,
      step: s + 1,
      steps,
      loss: totals.lossSum / totals.seen,
      accuracy: totals.correct.map((c) => c / totals.seen),
      examplesPerSecond: totals.seen / elapsed,
    });
    // Let the event loop run (signals, I/O): the step itself is synchronous native work.
    await new Promise((resolve) => setImmediate(resolve));
    if (callbacks.shouldStop?.()) return null;
  }
  totals.seconds = (performance.now() - started) / 1000;
  return totals;
}
