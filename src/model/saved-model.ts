import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import { type ClassSet, type Dataset } from '../data/dataset.js';
import { type FeatureParams } from '../features/params.js';
import { writeFileAtomic, writeFileSynced } from '../util/atomic.js';
import { BEE_VERSION } from '../version.js';
import { completeNetworkConfig, type NetworkConfig } from './network.js';
// Registers bee's layer classes with tfjs, which a loaded model.json names.
import './layers.js';
import './batch-norm.js';
import './constraints.js';

/** bee's own metadata, beside tfjs's model.json and weights.bin. */
export interface ModelMeta {
  format: 'bee-model';
  formatVersion: number;
  beeVersion: string;
  labels: string[];
  features: FeatureParams;
  network: NetworkConfig;
  /** What the model was trained on, so evaluation and --resume default to the same data and split. */
  data?: { root: string; split: Dataset['split']; classSet: ClassSet };
  training?: Record<string, unknown>;
  /** Softmax temperature per exit, fitted on the validation split by `bee sweep --calibrate`. */
  calibration?: { temperatures: number[]; split: string; date: string };
  versions: Record<string, string>;
}

/** 2: network configs with the exit head and the binary options (bee 0.2); 1 is read as the paper's network. */
export const MODEL_FORMAT_VERSION = 2;
const READABLE_MODEL_VERSIONS = [1, 2];
export const MODEL_FILE = 'model.json';
export const WEIGHTS_FILE = 'weights.bin';
export const META_FILE = 'bee.json';

/** The model's topology and weights as tfjs's own save would write them (loadable by tf.loadLayersModel). */
export async function modelArtifacts(model: tf.LayersModel): Promise<{ modelJson: object; weights: Uint8Array }> {
  let artifacts!: tf.io.ModelArtifacts;
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      artifacts = a;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const data = artifacts.weightData as ArrayBuffer;
  return {
    modelJson: {
      format: 'layers-model',
      generatedBy: `bee ${BEE_VERSION}`,
      convertedBy: null,
      modelTopology: artifacts.modelTopology,
      weightsManifest: [{ paths: [WEIGHTS_FILE], weights: artifacts.weightSpecs }],
    },
    weights: new Uint8Array(data),
  };
}

/**
 * Writes a model directory (model.json, weights.bin, bee.json and any extra files) under a
 * temporary name, syncs it, then renames it into place: a crash leaves the old directory or the
 * new one, never a half-written one. `dir` must not exist yet.
 */
export async function writeModelDir(dir: string, model: tf.LayersModel, meta: ModelMeta, extra: Record<string, string | Uint8Array> = {}): Promise<void> {
  const { modelJson, weights } = await modelArtifacts(model);
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.tmp-${process.pid}`);
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  writeFileSynced(path.join(tmp, WEIGHTS_FILE), weights);
  for (const [name, data] of Object.entries(extra)) writeFileSynced(path.join(tmp, name), data);
  writeFileSynced(path.join(tmp, META_FILE), JSON.stringify(meta, null, 2) + '\n');
  writeFileSynced(path.join(tmp, MODEL_FILE), JSON.stringify(modelJson));
  fs.renameSync(tmp, dir);
}

/** A model directory: DIR itself, or the best (else last) checkpoint of a `bee train --out DIR`. */
export function resolveModelDir(dir: string): string {
  for (const candidate of [dir, path.join(dir, 'best'), path.join(dir, 'last')]) {
    if (fs.existsSync(path.join(candidate, MODEL_FILE))) return candidate;
  }
  throw new BeeError(fs.existsSync(dir) ? 'no model.json here, nor in best/ or last/' : 'no such file or model directory', {
    file: dir,
    hint: 'pass --model with a directory written by bee train, or a .bee file from bee export',
  });
}

export function readModelMeta(dir: string): ModelMeta {
  const file = path.join(dir, META_FILE);
  let meta: ModelMeta;
  try {
    meta = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new BeeError(`cannot read bee's metadata: ${(err as Error).message.split('\n')[0]}`, { file, hint: 'is this a model written by bee train?' });
  }
  if (meta.format !== 'bee-model') throw new BeeError('not a bee model', { file, hint: 'pass --model with a directory written by bee train' });
  if (!READABLE_MODEL_VERSIONS.includes(meta.formatVersion)) {
    throw new BeeError(`model format ${meta.formatVersion}, this bee reads ${READABLE_MODEL_VERSIONS.join(' and ')}`, {
      file,
      hint: `written by bee ${meta.beeVersion}; retrain it, or use that version`,
    });
  }
  return { ...meta, network: completeNetworkConfig(meta.network) };
}

/** Size of a model directory's saved (float32) weights, weights.bin. */
export function floatWeightsBytes(dir: string): number {
  return fs.statSync(path.join(dir, WEIGHTS_FILE)).size;
}

/** Replaces a model directory's bee.json (atomically; model.json and the weights are untouched). */
export function writeModelMeta(dir: string, meta: ModelMeta): void {
  writeFileAtomic(path.join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
}

/** Loads a model directory on any backend (no file:// handler needed). */
export async function loadModelDir(dir: string): Promise<{ model: tf.LayersModel; meta: ModelMeta; dir: string }> {
  const resolved = resolveModelDir(dir);
  const meta = readModelMeta(resolved);
  try {
    const modelJson = JSON.parse(fs.readFileSync(path.join(resolved, MODEL_FILE), 'utf8'));
    const manifest = modelJson.weightsManifest as tf.io.WeightsManifestConfig;
    const buffers = manifest.flatMap((group) => group.paths.map((p) => fs.readFileSync(path.join(resolved, p))));
    const weightData = Buffer.concat(buffers);
    const model = await tf.loadLayersModel(
      tf.io.fromMemory({
        modelTopology: modelJson.modelTopology,
        weightSpecs: manifest.flatMap((group) => group.weights),
        weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
      }),
    );
    return { model, meta, dir: resolved };
  } catch (err) {
    throw new BeeError(`cannot load the model: ${(err as Error).message.split('\n')[0]}`, { file: resolved, hint: 'the directory may be damaged; use another checkpoint' });
  }
}
