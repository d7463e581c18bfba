import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { probeWavFile } from '../audio/wav.js';
import { SILENCE, UNKNOWN } from '../data/dataset.js';
import { splitExamples, type SplitExamples } from '../data/split-examples.js';
import { BeeError } from '../errors.js';
import { nonFiniteWeight } from '../model/model-check.js';
import { loadModelDir, MODEL_FORMAT_VERSION, type ModelMeta } from '../model/saved-model.js';
import { writeFileAtomic } from '../util/atomic.js';
import { makeDir } from '../util/make-dir.js';
import { lockDirectory } from '../util/run-lock.js';
import { BEE_VERSION } from '../version.js';
import { AugmentFeeder } from './augment-feeder.js';
import { saveCheckpoint } from './checkpoint.js';
import { diverged, runEpoch } from './epoch.js';
import { exitMetrics, type ExitMetrics } from './exit-metrics.js';
import { DEFAULT_RECIPE, defaultBatchSize } from './recipe.js';
import { checkOptions, type EpochRecord, type RunOptions, type TrainCallbacks, type TrainInput, type TrainResult } from './run-options.js';
import { dataOf, openRun } from './run-start.js';
import { trainStep } from './train-step.js';

/** The noise recordings that decode; the others are reported and left out. */
function usableNoise(files: string[], callbacks: TrainCallbacks): string[] {
  return files.filter((file) => {
    try {
      probeWavFile(file);
      return true;
    } catch (err) {
      if (!(err instanceof BeeError)) throw err;
      callbacks.onStatus?.(`skipping background noise ${err.oneLine()}`);
      return false;
    }
  });
}

/**
 * Trains the early-exit network on every exit at once: the loss is the weighted sum of the exits'
 * cross-entropies (and distillation terms), Adam on the recipe's learning-rate schedule, batches
 * drawn from the feature cache (or, with augmentation, featurized a batch ahead by a worker).
 * After every epoch: validation accuracy of every exit, a checkpoint (last, and best by the
 * selection criterion: by default the mean of the exits' validation accuracies, so that a model
 * whose early exits answer wins over one that is only good at the end), metrics.jsonl.
 */
export async function train(input: TrainInput): Promise<TrainResult> {
  const { dataset, table, out, callbacks = {} } = input;
  const labels = dataset.classes;
  if (labels.length < 2)
    throw new BeeError(`found ${labels.length} class${labels.length === 1 ? ` (${labels[0]})` : 'es'}: a classifier needs at least 2`, {
      file: dataset.root,
      hint: 'one folder of WAV files per class',
    });
  const train = splitExamples(table, labels, 'train');
  const { batchSize } = input.options;
  const given: RunOptions = {
    ...DEFAULT_RECIPE,
    ...input.options,
    batchSize: batchSize === 'auto' ? defaultBatchSize(train.rows.length) : batchSize,
    scheduleEpochs: input.options.epochs,
  };
  checkOptions(given);
  if (given.augment && (given.augment.cutWords || given.augment.synthNegatives) && !labels.includes(UNKNOWN))
    throw new BeeError(`cut words and synthesized negatives are labelled ${UNKNOWN}, and the dataset has no such class`, {
      file: dataset.root,
      hint: 'drop --cut-words and --synth-negatives',
    });
  const strangers = Object.keys(given.classWeights ?? {}).filter((l) => !labels.includes(l));
  if (strangers.length)
    throw new BeeError(`class weights for ${strangers.join(', ')}: the dataset has no such class`, {
      file: dataset.root,
      hint: `its classes: ${labels.join(', ')}`,
    });
  const validation = splitExamples(table, labels, 'validation');
  if (train.rows.length === 0) throw new BeeError('the train split is empty', { file: dataset.root, hint: 'check --split-salt and the split percentages' });
  if (validation.rows.length === 0) callbacks.onStatus?.('warning: the validation split is empty; the best checkpoint is chosen by training accuracy');
  // The lock, taken before anything in the run directory is read or written, makes "does it hold
  // a run already?" and the new run's first save one step: a second `bee train` on it is refused.
  if (!input.resume) makeDir(out, 'output directory');
  const unlock = fs.existsSync(out) ? lockDirectory(out) : () => {};
  try {
    return await trainLocked(input, train, validation, given);
  } finally {
    unlock();
  }
}

/** The run, its directory locked: opened (new or resumed), then epoch after epoch, each validated and saved. */
async function trainLocked(input: TrainInput, train: SplitExamples, validation: SplitExamples, given: RunOptions): Promise<TrainResult> {
  const { dataset, table, out, callbacks = {} } = input;
  const labels = dataset.classes;
  const { options, model, network, optimizer, teacher, state: opened } = await openRun(input, given);
  let state = opened;
  const shape = [table.frames, table.melBins, 1];
  const allFeatures = tf.tensor2d(table.features, [table.clips.length, table.frames * table.melBins]);
  const distill = options.distill > 0 ? { weight: options.distill, temperature: options.distillTemperature, teacher } : undefined;
  const steps = {
    step: trainStep(model, optimizer, labels.length, {
      arch: network.arch,
      distill,
      classWeights: labels.map((l) => options.classWeights?.[l] ?? 1),
    }),
    optimizer,
    options,
    train,
    allFeatures,
    shape,
    exits: model.outputs.length,
    unknown: labels.indexOf(UNKNOWN),
    silence: labels.indexOf(SILENCE),
    callbacks,
    out,
  };
  let feeder: AugmentFeeder | undefined;

  const meta = (epoch: number): ModelMeta => ({
    format: 'bee-model',
    formatVersion: MODEL_FORMAT_VERSION,
    beeVersion: BEE_VERSION,
    labels,
    features: table.params,
    network,
    data: dataOf(dataset),
    training: { epochs: epoch, options, last: state.history.at(-1), best: state.best },
    versions: { bee: BEE_VERSION, 'tfjs-core': tf.version_core, backend: tf.getBackend() },
  });

  let stopped = false;
  let test: ExitMetrics | null = null;
  try {
    if (options.augment) {
      const noise = usableNoise(options.noiseFiles ?? dataset.noiseFiles, callbacks);
      if (noise.length === 0 && options.augment.noiseProbability > 0)
        callbacks.onStatus?.('no background noise found (pass --noise-dir): augmenting with time shifts only');
      feeder = await AugmentFeeder.start(table, train.rows, noise, options.augment);
    }
    for (let epoch = state.epoch + 1; epoch <= options.epochs; epoch++) {
      const totals = await runEpoch({ ...steps, feeder }, epoch, state.epoch);
      if (!totals) {
        stopped = true;
        break;
      }
      const validated = performance.now();
      const validationResult = validation.rows.length > 0 ? exitMetrics(model, allFeatures, validation.rows, validation.labels, shape, labels.length) : null;
      const trainAccuracy = totals.correct.map((c) => c / totals.seen);
      const scored = (validationResult ?? { accuracy: trainAccuracy }).accuracy;
      const metric = options.selection === 'mean-exit' ? scored.reduce((a, b) => a + b, 0) / scored.length : scored[scored.length - 1];
      const isBest = state.best === null || metric > state.best.metric;
      const validationSeconds = (performance.now() - validated) / 1000;
      const record: EpochRecord = {
        epoch,
        seconds: totals.seconds + validationSeconds,
        timing: { steps: totals.stepSeconds, batchWaits: totals.waitSeconds, validation: validationSeconds },
        examplesPerSecond: totals.seen / totals.seconds,
        train: { loss: totals.lossSum / totals.seen, lossPerExit: totals.lossPerExit.map((l) => l / totals.seen), accuracy: trainAccuracy },
        validation: validationResult,
        best: isBest,
      };
      state = { ...state, epoch, history: [...state.history, record], best: isBest ? { epoch, metric } : state.best };
      // A step can leave non-finite weights behind a finite loss: they are never saved.
      if (nonFiniteWeight(model)) throw diverged(out, `the weights became non-finite in epoch ${epoch}`, epoch - 1);
      await saveCheckpoint(out, model, optimizer, meta(epoch), state);
      writeFileAtomic(path.join(out, 'metrics.jsonl'), state.history.map((r) => JSON.stringify(r)).join('\n') + '\n');
      callbacks.onEpochEnd?.(record);
    }
    const testSplit = splitExamples(table, labels, 'test');
    if (!stopped && testSplit.rows.length > 0) {
      const best = await loadModelDir(path.join(out, 'best'));
      test = exitMetrics(best.model, allFeatures, testSplit.rows, testSplit.labels, shape, labels.length);
      best.model.dispose();
    }
  } finally {
    await feeder?.stop();
    teacher?.dispose();
    allFeatures.dispose();
    optimizer.dispose();
    model.dispose();
  }
  return { out, history: state.history, best: state.best, test, stopped };
}
