import fs from 'node:fs';
import path from 'node:path';
import { BeeError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { describeError, readRegularFile } from '../util/read-file.js';
import { decodePacked, encodePacked, PACKED_MAGIC, type PackedModel } from './format.js';

/** The largest packed model bee reads (a full-width one is under 0.5 MiB). */
export const MAX_PACKED_BYTES = 64 * 1024 * 1024;

/** Whether a --model path names a packed file (a model directory is a directory). */
export function isPackedFile(file: string): boolean {
  try {
    return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
  } catch (err) {
    throw new BeeError(`cannot read: ${describeError(err)}`, { file, hint: 'pass --model with a model directory or a .bee file' });
  }
}

export function readPackedFile(file: string): PackedModel {
  return decodePacked(readRegularFile(file, MAX_PACKED_BYTES, 'packed bee model (bee export --model DIR --out FILE.bee)'), file);
}

/** Whether a file starts as a packed model does: one bee wrote (or a damaged one). */
function looksPacked(file: string): boolean {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  try {
    const head = Buffer.alloc(4);
    return fs.readSync(fd, head, 0, 4, 0) === 4 && head.toString('latin1') === PACKED_MAGIC;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Refuses a `bee export --out` that would destroy something: any file of the model being read,
 * or of any checkpoint beside it (whatever `force` says), a directory, or an existing file that is
 * not a packed model (unless `force`). Replacing an older `.bee` file is what export is for.
 */
export function checkExportTarget(out: string, modelDir: string, force = false): void {
  const fail = (err: unknown) => new BeeError(`cannot write: ${describeError(err)}`, { file: out, hint: 'name a writable file, e.g. model.bee' });
  let stat: fs.Stats | undefined;
  try {
    stat = fs.statSync(out, { throwIfNoEntry: false });
  } catch (err) {
    throw fail(err);
  }
  const real = (p: string) => {
    try {
      return fs.realpathSync(p);
    } catch {
      return path.resolve(p);
    }
  };
  const target = stat ? real(out) : path.join(real(path.dirname(out)), path.basename(out));
  const model = real(modelDir);
  // a checkpoint of a run: its siblings (last, best, the other epochs) are the run's models too
  const source = path.basename(path.dirname(model)) === 'checkpoints' ? path.dirname(model) : model;
  if (target === source || target.startsWith(source + path.sep)) {
    throw new BeeError('is part of the model being exported: writing it would destroy the model', { file: out, hint: 'name a new file, e.g. model.bee' });
  }
  if (!stat) return;
  if (stat.isDirectory()) throw new BeeError('is a directory', { file: out, hint: 'name a file, e.g. model.bee' });
  let packed: boolean;
  try {
    packed = stat.isFile() && looksPacked(out);
  } catch (err) {
    throw fail(err);
  }
  if (!force && !packed) {
    throw new BeeError('exists and is not a packed bee model: not overwriting it', { file: out, hint: 'name a new file, or pass --force to replace it' });
  }
}

/** Writes atomically: a reader sees the old file or the new one, never a part. Returns the size in bytes. */
export function writePackedFile(file: string, model: PackedModel): number {
  const bytes = encodePacked(model);
  try {
    writeFileAtomic(file, bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint =
      code === 'EISDIR'
        ? 'that is a directory: name a file, e.g. model.bee'
        : code === 'ENOSPC'
          ? 'the disk is full'
          : 'check that the directory exists and is writable';
    throw new BeeError(`cannot write: ${code ?? (err as Error).message}`, { file, hint });
  }
  return bytes.length;
}
