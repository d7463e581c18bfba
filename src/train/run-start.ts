import fs from 'node:fs';
import path from 'node:path';
import type * as tf from '@tensorflow/tfjs';
import type { Dataset } from '../data/dataset.js';
import type { FeatureTable } from '../data/feature-cache.js';
import { BeeError } from '../errors.js';
import { buildNetwork, layerName, networkConfig, type NetworkConfig } from '../model/network.js';
import { loadModelDir, type ModelMeta } from '../model/saved-model.js';
import { adamFor } from './adam.js';
import { loadLastCheckpoint, restoreOptimizer, syncLinks, type TrainState } from './checkpoint.js';
import { LEGACY_RECIPE } from './recipe.js';
import type { EpochRecord, RunOptions, TrainInput } from './run-options.js';

export type RunState = TrainState<RunOptions, EpochRecord>;

/** What a run trains: its options, progress, network, model and optimizer, and the teacher it distills from. */
export interface OpenRun {
  options: RunOptions;
  state: RunState;
  network: NetworkConfig;
  model: tf.LayersModel;
  optimizer: tf.Optimizer;
  teacher?: tf.LayersModel;
}

/** What a model's bee.json records of the data it was trained on: --resume must find the same. */
export const dataOf = (dataset: Dataset): NonNullable<ModelMeta['data']> => ({
  root: dataset.root,
  split: dataset.split,
  classSet: dataset.classSet,
  ...(dataset.hardNegatives ? { hardNegatives: dataset.hardNegatives } : {}),
});

/**
 * The run in `input.out`: resumed from its last checkpoint (its options win, but for `epochs`), or
 * a new one: a new network, or `options.from`'s with new exit output layers. Everything it
 * allocated is disposed of where it refuses.
 */
export async function openRun(input: TrainInput, given: RunOptions): Promise<OpenRun> {
  const { dataset, table, out, callbacks = {} } = input;
  const labels = dataset.classes;
  let run: OpenRun;
  if (input.resume) {
    const loaded = await loadLastCheckpoint<RunOptions, EpochRecord>(out);
    if (JSON.stringify(loaded.meta.data) !== JSON.stringify(dataOf(dataset)) || loaded.meta.labels.join('\n') !== labels.join('\n')) {
      throw new BeeError('the run was trained on other data, classes or splits', {
        file: out,
        hint: 'resume without --data (or with the same data and split flags)',
      });
    }
    const saved = loaded.state.options;
    const options = { ...LEGACY_RECIPE, ...saved, scheduleEpochs: saved.scheduleEpochs ?? saved.epochs, epochs: input.options.epochs };
    const optimizer = adamFor(options.learningRate);
    await restoreOptimizer(optimizer, loaded.optimizerWeights);
    run = { options, state: loaded.state, model: loaded.model, network: loaded.meta.network, optimizer };
    syncLinks(out, run.state);
    callbacks.onStatus?.(`resuming ${out} after epoch ${run.state.epoch}`);
  } else {
    if (fs.existsSync(path.join(out, 'last'))) {
      throw new BeeError('already holds a training run', { file: out, hint: 'pass --resume to continue it, or another --out' });
    }
    const options = given;
    let network: NetworkConfig;
    let model: tf.LayersModel;
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
    run = { options, state: { epoch: 0, options, history: [], best: null, optimizer: [] }, model, network, optimizer: adamFor(options.learningRate) };
  }
  try {
    if (run.options.teacher) run.teacher = await loadTeacher(run.options.teacher, labels, table.params);
  } catch (err) {
    run.optimizer.dispose();
    run.model.dispose();
    throw err;
  }
  return run;
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
