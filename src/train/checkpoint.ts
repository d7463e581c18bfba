import fs from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import type { DatasetRecord } from '../data/dataset.js';
import { loadModelDir, readModelMeta, writeModelDir, type ModelMeta } from '../model/saved-model.js';
import { makeDir } from '../util/make-dir.js';

/**
 * A training run's output directory:
 *   checkpoints/epoch-NNNN/   complete model directories (model.json, weights.bin, bee.json,
 *                             optimizer.bin, state.json)
 *   last -> checkpoints/...   the latest complete epoch (what --resume continues from)
 *   best -> checkpoints/...   the best by validation accuracy (what evaluation loads)
 *   metrics.jsonl             one line per epoch
 * A checkpoint is written under a temporary name and renamed into place; `last` and `best` are
 * symlinks replaced by rename. A kill at any moment leaves both pointing at complete checkpoints.
 */

export const STATE_FILE = 'state.json';
export const OPTIMIZER_FILE = 'optimizer.bin';

export interface TrainState<Options, EpochRecord> {
  /** Epochs completed. */
  epoch: number;
  options: Options;
  history: EpochRecord[];
  best: { epoch: number; metric: number } | null;
  optimizer: { name: string; shape: number[]; dtype: 'float32' | 'int32' }[];
}

/**
 * tfjs's Adam keeps beta1^t and beta2^t as running products, but its setWeights recomputes them
 * with pow(), which rounds differently; the difference flips binary weights and a resumed run
 * drifts from a straight one. They are saved and restored exactly, under these names.
 */
const ADAM_POWERS = ['accBeta1', 'accBeta2'] as const;
type AdamPowers = Partial<Record<(typeof ADAM_POWERS)[number], tf.Variable>>;

async function optimizerState(optimizer: tf.Optimizer): Promise<{ name: string; tensor: tf.Tensor; fresh: boolean }[]> {
  const named = (await optimizer.getWeights()).map((w) => ({ ...w, fresh: w.name === 'iter' })); // 'iter' is a new scalar
  const powers = optimizer as unknown as AdamPowers;
  for (const name of ADAM_POWERS) if (powers[name]) named.push({ name: `bee/${name}`, tensor: powers[name], fresh: false });
  return named;
}

/** Restores what optimizerState saved; disposes the given tensors. */
export async function restoreOptimizer(optimizer: tf.Optimizer, named: { name: string; tensor: tf.Tensor }[]): Promise<void> {
  const own = named.filter((w) => !w.name.startsWith('bee/'));
  await optimizer.setWeights(own); // copies them
  const powers = optimizer as unknown as AdamPowers;
  for (const w of named) {
    const variable = powers[w.name.slice('bee/'.length) as keyof AdamPowers];
    if (w.name.startsWith('bee/') && variable) variable.assign(w.tensor);
  }
  tf.dispose(named.map((w) => w.tensor));
}

const checkpointName = (epoch: number) => `epoch-${String(epoch).padStart(4, '0')}`;

/**
 * Hook for the crash-safety test: BEE_DEBUG_SAVE_PAUSE=EPOCH:MS pauses that epoch's save after the
 * checkpoint is written and before `last` points at it, so a test can kill the process there.
 */
function debugPause(epoch: number): void {
  const [at, ms] = (process.env.BEE_DEBUG_SAVE_PAUSE ?? '').split(':').map(Number);
  if (at === epoch && ms > 0) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function pointLink(out: string, link: string, target: string): void {
  const tmp = path.join(out, `.${link}.tmp-${process.pid}`);
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(target, tmp);
  fs.renameSync(tmp, path.join(out, link));
}

function linkTarget(out: string, link: string): string | undefined {
  try {
    return path.basename(fs.readlinkSync(path.join(out, link)));
  } catch {
    return undefined;
  }
}

/**
 * Points `last` and `best` at the checkpoints the state names, and removes every other checkpoint
 * (and leftovers of killed saves). Run after each save and on resume, so a kill between the two
 * link updates is repaired by the next run rather than losing the best checkpoint.
 */
export function syncLinks(out: string, state: { epoch: number; best: { epoch: number } | null }): void {
  const dir = path.join(out, 'checkpoints');
  const wanted = { last: checkpointName(state.epoch), best: state.best ? checkpointName(state.best.epoch) : undefined };
  for (const [link, name] of Object.entries(wanted)) {
    if (name && linkTarget(out, link) !== name && fs.existsSync(path.join(dir, name))) pointLink(out, link, path.join('checkpoints', name));
  }
  const keep = new Set(Object.values(wanted));
  for (const entry of fs.readdirSync(dir)) {
    if (!keep.has(entry)) fs.rmSync(path.join(dir, entry), { recursive: true, force: true });
  }
}

/** Saves the epoch's checkpoint and moves `last` (and `best`) to it; a full disk or a denied write is a one-line error. */
export async function saveCheckpoint<O, R>(
  out: string,
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  meta: ModelMeta,
  state: TrainState<O, R>,
): Promise<void> {
  try {
    await writeCheckpoint(out, model, optimizer, meta, state);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (!code) throw err;
    throw new BeeError(`cannot save the checkpoint of epoch ${state.epoch}: ${code}`, {
      file: out,
      hint: 'check free disk space and permissions; --resume continues from the last saved epoch',
    });
  }
}

async function writeCheckpoint<O, R>(out: string, model: tf.LayersModel, optimizer: tf.Optimizer, meta: ModelMeta, state: TrainState<O, R>): Promise<void> {
  const dir = path.join(out, 'checkpoints');
  makeDir(dir, 'checkpoints directory');
  const name = checkpointName(state.epoch);
  const named = await optimizerState(optimizer);
  const optimizerBytes = new Uint8Array(named.reduce((n, w) => n + w.tensor.size * 4, 0));
  let at = 0;
  // Stored as little-endian float32 (Adam's int32 iteration count converts exactly); the dtype is kept to restore it.
  for (const w of named) {
    const values = Float32Array.from(w.tensor.dataSync());
    optimizerBytes.set(new Uint8Array(values.buffer), at);
    at += values.byteLength;
  }
  const fullState: TrainState<O, R> = {
    ...state,
    optimizer: named.map((w) => ({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype === 'int32' ? 'int32' : 'float32' })),
  };
  const target = path.join(dir, name);
  fs.rmSync(target, { recursive: true, force: true }); // an epoch re-run after a crash replaces its own leftovers
  await writeModelDir(target, model, meta, {
    [OPTIMIZER_FILE]: optimizerBytes,
    [STATE_FILE]: JSON.stringify(fullState, null, 2) + '\n',
  });
  tf.dispose(named.filter((w) => w.fresh).map((w) => w.tensor));
  debugPause(state.epoch);
  syncLinks(out, state);
}

export interface LoadedCheckpoint<O, R> {
  model: tf.LayersModel;
  meta: ModelMeta;
  state: TrainState<O, R>;
  optimizerWeights: { name: string; tensor: tf.Tensor }[];
}

/** Loads `out/last` for --resume. */
export async function loadLastCheckpoint<O, R>(out: string): Promise<LoadedCheckpoint<O, R>> {
  const last = path.join(out, 'last');
  if (!fs.existsSync(path.join(last, STATE_FILE))) {
    throw new BeeError('no checkpoint to resume from', { file: out, hint: 'run without --resume to start training' });
  }
  const { model, meta, dir } = await loadModelDir(last);
  const state = JSON.parse(fs.readFileSync(path.join(dir, STATE_FILE), 'utf8')) as TrainState<O, R>;
  const bytes = fs.readFileSync(path.join(dir, OPTIMIZER_FILE));
  const floats = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let at = 0;
  const optimizerWeights = state.optimizer.map(({ name, shape, dtype }) => {
    const size = shape.reduce((a, b) => a * b, 1);
    const values = floats.subarray(at, at + size);
    const tensor = dtype === 'int32' ? tf.tensor(Int32Array.from(values), shape, 'int32') : tf.tensor(values, shape);
    at += size;
    return { name, tensor };
  });
  if (at !== floats.length)
    throw new BeeError('optimizer state does not match its description', { file: path.join(dir, OPTIMIZER_FILE), hint: 'the checkpoint is damaged' });
  return { model, meta, state, optimizerWeights };
}

/** What `--resume` continues: the run's own epoch count (so that it ends where it was going to) and its data, where the checkpoint says. */
export interface ResumePoint {
  epochs?: number;
  data?: DatasetRecord;
}

/** The resume point of the run in `out`, from its last checkpoint; a one-line error where there is none. */
export function resumePoint(out: string): ResumePoint {
  if (!fs.existsSync(path.join(out, 'last'))) throw new BeeError('no checkpoint to resume from', { file: out, hint: 'run without --resume to start training' });
  const meta = readModelMeta(path.join(out, 'last'));
  const epochs = (meta.training as { options?: { epochs?: number } } | undefined)?.options?.epochs;
  return { ...(epochs !== undefined ? { epochs } : {}), ...(meta.data ? { data: meta.data } : {}) };
}
