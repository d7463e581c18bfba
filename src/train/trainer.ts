import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { probeWavFile } from '../audio/wav.js';
import { type Dataset, SILENCE, UNKNOWN } from '../data/dataset.js';
import { splitExamples, type SplitExamples } from '../data/examples.js';
import type { FeatureTable } from '../data/feature-cache.js';
import { BeeError } from '../errors.js';
import { nonFiniteWeight } from '../model/model-check.js';
import { buildNetwork, layerName, networkConfig, type NetworkConfig, type Precision } from '../model/network.js';
import { loadModelDir, MODEL_FORMAT_VERSION, type ModelMeta } from '../model/saved-model.js';
import { writeFileAtomic } from '../util/atomic.js';
import { makeDir } from '../util/make-dir.js';
import { lockDirectory } from '../util/run-lock.js';
import { BEE_VERSION } from '../version.js';
import { adamFor } from './adam.js';
import { AugmentFeeder } from './augment-feeder.js';
import type { AugmentOptions } from '../data/augment.js';
import { loadLastCheckpoint, restoreOptimizer, saveCheckpoint, syncLinks, type TrainState } from './checkpoint.js';
import { exitMetrics, type ExitMetrics } from './evaluate.js';
import { checkRecipe, DEFAULT_RECIPE, defaultBatchSize, exitWeightsAt, LEGACY_RECIPE, runLearningRate, type RecipeOptions } from './recipe.js';
import { rngFor, shuffle } from '../util/rng.js';
import { trainStep } from './train-step.js';

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
  examplesPerSecond: number;
  train: { loss: number; lossPerExit: number[]; accuracy: number[] };
  validation: ExitMetrics | null;
  best: boolean;
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

type State = TrainState<RunOptions, EpochRecord>;

const dataOf = (dataset: Dataset): NonNullable<ModelMeta['data']> => ({ root: dataset.root, split: dataset.split, classSet: dataset.classSet });

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

function checkOptions(o: RunOptions): void {
  if (!(Number.isInteger(o.epochs) && o.epochs >= 1)) throw new BeeError(`epochs must be a whole number >= 1, got ${o.epochs}`);
  if (!(Number.isInteger(o.batchSize) && o.batchSize >= 1)) throw new BeeError(`batch size must be a whole number >= 1, got ${o.batchSize}`);
  if (!(o.learningRate > 0 && Number.isFinite(o.learningRate))) throw new BeeError(`learning rate must be a finite number > 0, got ${o.learningRate}`);
  if (o.exitWeights.length === 0 || o.exitWeights.some((w) => !(w >= 0 && Number.isFinite(w))) || o.exitWeights.every((w) => w === 0)) {
    throw new BeeError(`exit weights must be numbers >= 0, one per exit, not all 0, got ${o.exitWeights.join(',')}`, { hint: 'e.g. --exit-weights 1,1,1,1' });
  }
  checkRecipe(o);
}

/** Adam reads its (protected) learning rate at every update: the schedule sets it before each step. */
function setLearningRate(optimizer: tf.Optimizer, rate: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = rate;
}

/** The teacher of --teacher: a saved model of the same classes and features. */
async function loadTeacher(dir: string, labels: string[], features: FeatureTable['params']): Promise<tf.LayersModel> {
  const { model, meta, dir: resolved } = await loadModelDir(dir);
  const problem =
    meta.labels.join('\n') !== labels.join('\n')
      ? 'has other classes'
      : JSON.stringify(meta.features) !== JSON.stringify(features)
        ? 'was trained on other features'
        : undefined;
  if (problem) {
    model.dispose();
    throw new BeeError(`the teacher ${problem} than this dataset`, {
      file: resolved,
      hint: 'train the teacher on the same data (e.g. bee train --precision float)',
    });
  }
  return model;
}

/**
 * The network of a trained model with new exit output layers for `classes` classes: every other
 * layer keeps its trained weights (fine-tuning to new words, bee train --from --freeze none).
 */
async function startFrom(
  dir: string,
  classes: number,
  features: FeatureTable['params'],
  seed: number,
): Promise<{ network: NetworkConfig; model: tf.LayersModel }> {
  const source = await loadModelDir(dir);
  try {
    if (JSON.stringify(source.meta.features) !== JSON.stringify(features))
      throw new BeeError('was trained on other features than this dataset', { file: source.dir, hint: 'start from a model of the same features' });
    const network = { ...source.meta.network, classes, seed };
    const model = buildNetwork(network);
    const outputs = new Set(network.filters.map((_, i) => layerName.exit(i + 1)));
    for (const layer of model.layers) {
      if (outputs.has(layer.name) || layer.weights.length === 0) continue;
      layer.setWeights(source.model.getLayer(layer.name).getWeights());
    }
    return { network, model };
  } finally {
    source.model.dispose();
  }
}

/** Training that diverged: a one-line error that says what is kept. */
function diverged(out: string, what: string, lastSaved: number): BeeError {
  const kept = lastSaved > 0 ? `epoch ${lastSaved}'s checkpoint is kept (last)` : 'nothing was saved';
  return new BeeError(`training stopped: ${what}`, { file: out, hint: `${kept}; try a lower --lr, or look for broken clips with bee data info` });
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

async function trainLocked(input: TrainInput, train: SplitExamples, validation: SplitExamples, given: RunOptions): Promise<TrainResult> {
  const { dataset, table, out, callbacks = {} } = input;
  const labels = dataset.classes;
  let options = given;
  let state: State;
  let model: tf.LayersModel;
  let network: NetworkConfig;
  const optimizerFor = (o: RunOptions) => adamFor(o.learningRate);
  let optimizer: tf.Optimizer;

  if (input.resume) {
    const loaded = await loadLastCheckpoint<RunOptions, EpochRecord>(out);
    if (JSON.stringify(loaded.meta.data) !== JSON.stringify(dataOf(dataset)) || loaded.meta.labels.join('\n') !== labels.join('\n')) {
      throw new BeeError('the run was trained on other data, classes or splits', {
        file: out,
        hint: 'resume without --data (or with the same data and split flags)',
      });
    }
    const saved = loaded.state.options;
    options = { ...LEGACY_RECIPE, ...saved, scheduleEpochs: saved.scheduleEpochs ?? saved.epochs, epochs: input.options.epochs };
    state = loaded.state;
    model = loaded.model;
    network = loaded.meta.network;
    optimizer = optimizerFor(options);
    await restoreOptimizer(optimizer, loaded.optimizerWeights);
    syncLinks(out, state);
    callbacks.onStatus?.(`resuming ${out} after epoch ${state.epoch}`);
  } else {
    if (fs.existsSync(path.join(out, 'last'))) {
      throw new BeeError('already holds a training run', { file: out, hint: 'pass --resume to continue it, or another --out' });
    }
    if (options.from) ({ network, model } = await startFrom(options.from, labels.length, table.params, options.seed));
    else {
      network = networkConfig({
        inputShape: [table.frames, table.melBins, 1],
        classes: labels.length,
        precision: options.precision,
        width: options.width,
        seed: options.seed,
        ...options.network,
      });
      model = buildNetwork(network);
    }
    if (options.exitWeights.length !== network.filters.length) {
      model.dispose();
      throw new BeeError(`${options.exitWeights.length} exit weights for a network of ${network.filters.length} exits`, {
        hint: `one per exit, e.g. --exit-weights ${network.filters.map(() => 1).join(',')}`,
      });
    }
    optimizer = optimizerFor(options);
    state = { epoch: 0, options, history: [], best: null, optimizer: [] };
  }
  let teacher: tf.LayersModel | undefined;
  try {
    if (options.teacher) teacher = await loadTeacher(options.teacher, labels, table.params);
  } catch (err) {
    optimizer.dispose();
    model.dispose();
    throw err;
  }

  const featureSize = table.frames * table.melBins;
  const shape = [table.frames, table.melBins, 1];
  // The whole table lives in one tensor; a batch is a gather on the backend, no copy in JS.
  const allFeatures = tf.tensor2d(table.features, [table.clips.length, featureSize]);
  const exits = model.outputs.length;
  const step = trainStep(
    model,
    optimizer,
    labels.length,
    options.distill > 0 ? { weight: options.distill, temperature: options.distillTemperature, teacher } : undefined,
  );
  // synthesized negatives (AugmentOptions.synthNegatives) are examples of each epoch too
  const extraPerEpoch = options.augment ? Math.round((options.augment.synthNegatives ?? 0) * train.rows.length) : 0;
  const stepsPerEpoch = Math.ceil((train.rows.length + extraPerEpoch) / options.batchSize);
  // a cut word (AugmentOptions.cutWords) is _unknown_; silence and _unknown_ clips are not cut
  const [unknown, silence] = [labels.indexOf(UNKNOWN), labels.indexOf(SILENCE)];
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
    for (let epoch = state.epoch + 1; epoch <= options.epochs && !stopped; epoch++) {
      // synthesized negatives: ids from train.rows.length on, one sentence each, labelled _unknown_
      const sentences = feeder?.sentenceLengths.length ?? 0;
      const extraRng = rngFor(options.seed, epoch, 3);
      const extra = Array.from({ length: sentences ? extraPerEpoch : 0 }, () => train.rows.length + Math.floor(extraRng() * sentences));
      const order = shuffle([...train.rows.map((_, i) => i), ...extra], rngFor(options.seed, epoch, 1));
      const steps = Math.ceil(order.length / options.batchSize);
      const batches = Array.from({ length: steps }, (_, s) => order.slice(s * options.batchSize, (s + 1) * options.batchSize));
      feeder?.beginEpoch(batches, rngFor(options.seed, epoch, 2), (i) => train.labels[i] !== unknown && train.labels[i] !== silence);
      const labelOf = (i: number) => (i >= train.rows.length ? unknown : train.labels[i]);
      callbacks.onEpochStart?.(epoch, steps);
      const started = performance.now();
      let seen = 0;
      let lossSum = 0;
      const lossPerExit = new Array<number>(exits).fill(0);
      const correct = new Array<number>(exits).fill(0);
      const exitWeights = exitWeightsAt(options.exitWeights, options.exitRampEpochs, epoch);
      for (let s = 0; s < steps; s++) {
        setLearningRate(optimizer, runLearningRate(options, (epoch - 1) * stepsPerEpoch + s, stepsPerEpoch));
        const batch = batches[s];
        const fed = await feeder?.next();
        const batchLabels = Int32Array.from(batch, (i, k) => (fed?.cut[k] ? unknown : labelOf(i)));
        const x = fed
          ? tf.tensor4d(fed.features, [batch.length, ...shape] as [number, number, number, number])
          : tf.tidy(() =>
              tf.reshape(
                tf.gather(
                  allFeatures,
                  Int32Array.from(batch, (i) => train.rows[i]),
                ),
                [batch.length, ...shape],
              ),
            );
        const stats = step(x, batchLabels, exitWeights);
        x.dispose();
        if (!Number.isFinite(stats[0])) throw diverged(out, `the loss became ${stats[0]} at epoch ${epoch}, step ${s + 1}`, state.epoch);
        lossSum += stats[0] * batch.length;
        for (let k = 0; k < exits; k++) {
          lossPerExit[k] += stats[1 + k] * batch.length;
          correct[k] += stats[1 + exits + k];
        }
        seen += batch.length;
        const elapsed = (performance.now() - started) / 1000;
        callbacks.onBatch?.({ epoch, step: s + 1, steps, loss: lossSum / seen, accuracy: correct.map((c) => c / seen), examplesPerSecond: seen / elapsed });
        // Let the event loop run (signals, I/O): the step itself is synchronous native work.
        await new Promise((resolve) => setImmediate(resolve));
        if (callbacks.shouldStop?.()) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      const trainSeconds = (performance.now() - started) / 1000;

      const validationResult = validation.rows.length > 0 ? exitMetrics(model, allFeatures, validation.rows, validation.labels, shape, labels.length) : null;
      const trainAccuracy = correct.map((c) => c / seen);
      const scored = (validationResult ?? { accuracy: trainAccuracy }).accuracy;
      const metric = options.selection === 'mean-exit' ? scored.reduce((a, b) => a + b, 0) / scored.length : scored[scored.length - 1];
      const isBest = state.best === null || metric > state.best.metric;
      const record: EpochRecord = {
        epoch,
        seconds: (performance.now() - started) / 1000,
        examplesPerSecond: seen / trainSeconds,
        train: { loss: lossSum / seen, lossPerExit: lossPerExit.map((l) => l / seen), accuracy: trainAccuracy },
        validation: validationResult,
        best: isBest,
      };
      state = { ...state, epoch, history: [...state.history, record], best: isBest ? { epoch, metric } : state.best };
      // A step can leave non-finite weights behind a finite loss: they are never saved.
      if (nonFiniteWeight(model)) throw diverged(out, `the weights became non-finite in epoch ${epoch}`, epoch - 1);
      try {
        await saveCheckpoint(out, model, optimizer, meta(epoch), state);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (!code) throw err;
        throw new BeeError(`cannot save the checkpoint of epoch ${epoch}: ${code}`, {
          file: out,
          hint: 'check free disk space and permissions; --resume continues from the last saved epoch',
        });
      }
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
