import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import { removeStaleTemps, tempDirFor, writeFileAtomic, writeFileSynced } from '../util/atomic.js';
import { BEE_VERSION } from '../version.js';
import { completeNetworkConfig } from './network.js';
// Registers bee's layer classes with tfjs, which a loaded model.json names.
import './layers.js';
import './batch-norm.js';
import './constraints.js';
import { makeDir } from '../util/make-dir.js';
import { describeError, readJsonFile, readRegularFile } from '../util/read-file.js';
import { metaProblem, modelProblem } from './model-check.js';
import type { ModelMeta } from '../spec/model-meta.js';

/** bee's own metadata, beside tfjs's model.json and weights.bin. */
export type { ModelMeta } from '../spec/model-meta.js';

/**
 * 3: quantizers with their parameters in layer configs, the exit head's optional hidden layer;
 * 2: network configs with the exit head and the binary options (bee 0.2); 1 is read as the paper's network.
 */
export const MODEL_FORMAT_VERSION = 3;
const READABLE_MODEL_VERSIONS = [1, 2, 3];
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
  removeStaleTemps(dir);
  const tmp = tempDirFor(dir);
  fs.rmSync(tmp, { recursive: true, force: true });
  makeDir(tmp, 'model directory');
  writeFileSynced(path.join(tmp, WEIGHTS_FILE), weights);
  for (const [name, data] of Object.entries(extra)) writeFileSynced(path.join(tmp, name), data);
  writeFileSynced(path.join(tmp, META_FILE), JSON.stringify(meta, null, 2) + '\n');
  writeFileSynced(path.join(tmp, MODEL_FILE), JSON.stringify(modelJson));
  fs.renameSync(tmp, dir);
}

/** A model directory: DIR itself, or the best (else last) checkpoint of a `bee train --out DIR`. */
export function resolveModelDir(dir: string): string {
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(dir, { throwIfNoEntry: false });
  } catch (err) {
    throw new BeeError(`cannot read: ${describeError(err)}`, { file: dir, hint: 'pass --model with a model directory' });
  }
  if (stat?.isFile()) {
    throw new BeeError('is a file; this needs a model directory', {
      file: dir,
      hint: 'pass the directory bee train wrote (a packed .bee file runs in bee eval, sweep and predict)',
    });
  }
  for (const candidate of [dir, path.join(dir, 'best'), path.join(dir, 'last')]) {
    if (fs.existsSync(path.join(candidate, MODEL_FILE))) return candidate;
  }
  throw new BeeError(fs.existsSync(dir) ? 'no model.json here, nor in best/ or last/' : 'no such file or model directory', {
    file: dir,
    hint: 'pass --model with a directory written by bee train, or a .bee file from bee export',
  });
}

/** Bounds of what bee reads from a model directory (a full-width model's weights are 2 MiB). */
const MAX_META_BYTES = 4 << 20;
const MAX_TOPOLOGY_BYTES = 16 << 20;
const MAX_WEIGHTS_BYTES = 1 << 30;

export function readModelMeta(dir: string): ModelMeta {
  const file = path.join(dir, META_FILE);
  const meta = readJsonFile(file, MAX_META_BYTES, "bee model's bee.json") as ModelMeta;
  if (typeof meta !== 'object' || meta === null || meta.format !== 'bee-model')
    throw new BeeError('not a bee model', { file, hint: 'pass --model with a directory written by bee train' });
  if (!READABLE_MODEL_VERSIONS.includes(meta.formatVersion)) {
    throw new BeeError(
      `model format ${meta.formatVersion}, this bee reads ${READABLE_MODEL_VERSIONS.slice(0, -1).join(', ')} and ${READABLE_MODEL_VERSIONS.at(-1)}`,
      {
        file,
        hint: `written by bee ${meta.beeVersion}; retrain it, or use that version`,
      },
    );
  }
  const completed = { ...meta, network: typeof meta.network === 'object' && meta.network !== null ? completeNetworkConfig(meta.network) : meta.network };
  const problem = metaProblem(completed);
  if (problem) throw new BeeError(`bad bee.json: ${problem}`, { file, hint: 'the model directory is damaged or was edited; use another checkpoint' });
  return completed;
}

/** Size of a model directory's saved (float32) weights, weights.bin. */
export function floatWeightsBytes(dir: string): number {
  return fs.statSync(path.join(dir, WEIGHTS_FILE)).size;
}

/** Replaces a model directory's bee.json (atomically; model.json and the weights are untouched). */
export function writeModelMeta(dir: string, meta: ModelMeta): void {
  writeFileAtomic(path.join(dir, META_FILE), JSON.stringify(meta, null, 2) + '\n');
}

/** model.json's topology and weights, read within bounds: weight files are plain names in the directory, of the size their specs say. */
function readArtifacts(dir: string): { modelTopology: object; weightSpecs: tf.io.WeightsManifestEntry[]; weightData: ArrayBuffer } {
  const file = path.join(dir, MODEL_FILE);
  const modelJson = readJsonFile(file, MAX_TOPOLOGY_BYTES, "bee model's model.json") as {
    modelTopology?: object;
    weightsManifest?: tf.io.WeightsManifestConfig;
  };
  const manifest = modelJson?.weightsManifest;
  const fail = (reason: string) => new BeeError(reason, { file, hint: 'the model directory is damaged or was edited; use another checkpoint' });
  if (
    typeof modelJson?.modelTopology !== 'object' ||
    !Array.isArray(manifest) ||
    !manifest.every((g) => Array.isArray(g?.paths) && Array.isArray(g?.weights))
  ) {
    throw fail('not a tfjs layers model (no modelTopology and weightsManifest)');
  }
  const paths = manifest.flatMap((g) => g.paths);
  if (!paths.every((p) => typeof p === 'string' && p === path.basename(p) && p !== '..' && p !== '.'))
    throw fail('weightsManifest names files outside the model directory');
  if (new Set(paths).size !== paths.length) throw fail('weightsManifest names a file twice');
  const weightSpecs = manifest.flatMap((g) => g.weights);
  const bytesPer: Record<string, number> = { float32: 4, int32: 4, bool: 1 };
  const expected = weightSpecs.reduce(
    (n, w) => n + (bytesPer[w?.dtype ?? 'float32'] ?? NaN) * (Array.isArray(w?.shape) ? w.shape.reduce((a, b) => a * b, 1) : NaN),
    0,
  );
  // sizes first: nothing is read that the specs do not account for
  const sizes = paths.map((p) => fs.statSync(path.join(dir, p), { throwIfNoEntry: false })?.size ?? 0);
  const onDisk = sizes.reduce((a, b) => a + b, 0);
  if (onDisk !== expected) throw fail(`the weights take ${onDisk} bytes; model.json's specs need ${expected}`);
  const buffers = paths.map((p) => readRegularFile(path.join(dir, p), MAX_WEIGHTS_BYTES, 'weights file'));
  const weightData = Buffer.concat(buffers);
  if (weightData.length !== expected) throw fail(`the weights take ${weightData.length} bytes; model.json's specs need ${expected}`);
  return {
    modelTopology: modelJson.modelTopology,
    weightSpecs,
    weightData: weightData.buffer.slice(weightData.byteOffset, weightData.byteOffset + weightData.byteLength),
  };
}

/**
 * Loads a model directory on any backend (no file:// handler needed), checked as a whole:
 * bee.json, model.json and the weights must agree (labels and outputs, network and layers,
 * weights' count, size and finiteness), else a one-line error says where they do not.
 */
export async function loadModelDir(dir: string): Promise<{ model: tf.LayersModel; meta: ModelMeta; dir: string }> {
  const resolved = resolveModelDir(dir);
  const meta = readModelMeta(resolved);
  const artifacts = readArtifacts(resolved);
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new BeeError(`cannot load the model: ${(err as Error).message.split('\n')[0]}`, {
      file: resolved,
      hint: 'the directory may be damaged; use another checkpoint',
    });
  }
  const problem = modelProblem(model, meta.network);
  if (problem) {
    model.dispose();
    throw new BeeError(problem, { file: resolved, hint: 'the model directory is damaged or was edited; use another checkpoint' });
  }
  return { model, meta, dir: resolved };
}
