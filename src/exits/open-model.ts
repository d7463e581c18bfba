import { BeeError } from '../errors.js';
import { engineFor } from '../engine/engine-for.js';
import { packModel } from '../convert/pack.js';
import { isPackedFile, readPackedFile } from '../engine/packed-file.js';
import type { FeatureParams } from '../features/params.js';
import type { Precision } from '../model/network.js';
import { loadModelDir, type ModelMeta } from '../model/saved-model.js';
import type { EarlyExitClassifier } from '../spec/classifier.js';
import { type ExitCost, exitCosts } from '../spec/network-cost.js';
import type { StreamRule } from '../spec/stream-rule.js';
import { TfjsClassifier } from './tfjs-classifier.js';

export type EngineName = 'tfjs' | 'packed';
export const ENGINES: EngineName[] = ['tfjs', 'packed'];

/** A model ready to classify, with what evaluation and prediction need to know of it. */
export interface OpenedModel {
  classifier: EarlyExitClassifier;
  engine: EngineName;
  /** the model directory or packed file */
  source: string;
  labels: string[];
  features: FeatureParams;
  precision: Precision;
  /** what the model was trained on, when known */
  data?: ModelMeta['data'];
  /** bee.json, when the source is a model directory */
  meta?: ModelMeta;
  /** what reaching each exit costs (the network's shape alone decides) */
  exitCosts: ExitCost[];
  /** how it listens to streams, where it was calibrated (bee listen --calibrate) */
  stream?: StreamRule;
}

/**
 * Opens --model for an engine: a model directory runs on tfjs, or on the packed engine packed in
 * memory; a packed .bee file runs on the packed engine (the default for a file). `fastest`: the
 * packed engine wherever the model has a packed form (a float twin has none: tfjs).
 */
export async function openModel(modelPath: string, engine?: EngineName | 'fastest'): Promise<OpenedModel> {
  if (isPackedFile(modelPath)) {
    if (engine === 'tfjs')
      throw new BeeError('a packed model runs on the packed engine only', { file: modelPath, hint: 'drop --engine tfjs, or pass the model directory' });
    const packed = readPackedFile(modelPath);
    const { header } = packed;
    return {
      classifier: engineFor(packed),
      engine: 'packed',
      source: modelPath,
      labels: header.labels,
      features: header.features,
      precision: 'binary',
      data: header.data,
      exitCosts: exitCosts(header.network),
      ...(header.stream ? { stream: header.stream } : {}),
    };
  }
  const { model, meta, dir } = await loadModelDir(modelPath);
  const common = {
    source: dir,
    labels: meta.labels,
    features: meta.features,
    precision: meta.network.precision,
    data: meta.data,
    meta,
    exitCosts: exitCosts(meta.network),
    ...(meta.stream ? { stream: meta.stream } : {}),
  };
  if (engine === 'packed' || (engine === 'fastest' && meta.network.precision === 'binary')) {
    const { packed } = packModel(model, meta, dir);
    model.dispose();
    return { ...common, classifier: engineFor(packed), engine: 'packed' };
  }
  return { ...common, classifier: new TfjsClassifier(model, meta.calibration?.temperatures, meta.network.arch), engine: 'tfjs' };
}
