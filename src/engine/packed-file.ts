import fs from 'node:fs';
import { BeeError } from '../errors.js';
import { writeFileAtomic } from '../util/atomic.js';
import { decodePacked, encodePacked, type PackedModel } from './format.js';

/** Whether a --model path names a packed file (a model directory is a directory). */
export function isPackedFile(file: string): boolean {
  return fs.statSync(file, { throwIfNoEntry: false })?.isFile() ?? false;
}

export function readPackedFile(file: string): PackedModel {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new BeeError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file, hint: 'bee export --model DIR --out FILE.bee makes one' });
  }
  return decodePacked(bytes, file);
}

/** Writes atomically: a reader sees the old file or the new one, never a part. Returns the size in bytes. */
export function writePackedFile(file: string, model: PackedModel): number {
  const bytes = encodePacked(model);
  try {
    writeFileAtomic(file, bytes);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const hint = code === 'EISDIR' ? 'that is a directory: name a file, e.g. model.bee' : code === 'ENOSPC' ? 'the disk is full' : 'check that the directory exists and is writable';
    throw new BeeError(`cannot write: ${code ?? (err as Error).message}`, { file, hint });
  }
  return bytes.length;
}
