import fs from 'node:fs';
import { BeeError } from '../errors.js';

const MiB = 1 << 20;

/**
 * Opens a regular file for reading, or throws a BeeError naming it. A device, a FIFO or a
 * directory is refused before any read (a FIFO would block the open, /dev/zero would never end).
 */
export function openRegularFile(file: string, what = 'file'): number {
  let fd: number;
  try {
    const stat = fs.statSync(file);
    if (!stat.isFile()) throw new BeeError(`not a regular file (${kindOf(stat)})`, { file, hint: `expected a ${what}` });
    // O_NONBLOCK: should the path become a FIFO after the stat, the open does not wait for a writer.
    fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  } catch (err) {
    if (err instanceof BeeError) throw err;
    throw new BeeError(`cannot read: ${describeError(err)}`, { file, hint: 'check the path' });
  }
  const stat = fs.fstatSync(fd);
  if (!stat.isFile()) {
    fs.closeSync(fd);
    throw new BeeError(`not a regular file (${kindOf(stat)})`, { file, hint: `expected a ${what}` });
  }
  return fd;
}

/**
 * Reads a whole regular file of at most `maxBytes`, or throws a BeeError naming it (see
 * openRegularFile); the read is bounded by the size fstat gives, so a file that grows meanwhile
 * cannot make it allocate more.
 */
export function readRegularFile(file: string, maxBytes: number, what = 'file'): Buffer {
  const fd = openRegularFile(file, what);
  try {
    const stat = fs.fstatSync(fd);
    if (stat.size > maxBytes) {
      throw new BeeError(`${(stat.size / MiB).toFixed(1)} MiB is more than the ${(maxBytes / MiB).toFixed(0)} MiB bee reads as a ${what}`, {
        file,
        hint: 'split it into smaller files',
      });
    }
    const bytes = Buffer.allocUnsafe(stat.size);
    let read = 0;
    while (read < bytes.length) {
      const n = fs.readSync(fd, bytes, read, bytes.length - read, read);
      if (n === 0) break; // it shrank meanwhile: what is there is what there is
      read += n;
    }
    return read === bytes.length ? bytes : bytes.subarray(0, read);
  } catch (err) {
    if (err instanceof BeeError) throw err;
    throw new BeeError(`cannot read: ${describeError(err)}`, { file, hint: 'check the path' });
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads and parses a JSON file of at most `maxBytes`. */
export function readJsonFile(file: string, maxBytes: number, what = 'JSON file'): unknown {
  const text = readRegularFile(file, maxBytes, what).toString('utf8');
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BeeError(`not valid JSON: ${(err as Error).message}`, { file, hint: `expected a ${what}` });
  }
}

function kindOf(stat: fs.Stats): string {
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a FIFO';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  if (stat.isSocket()) return 'a socket';
  return 'not a file';
}

/** An fs error as its code and what it means (ELOOP: a symlink loop), for one-line messages. */
export function describeError(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  const meaning: Record<string, string> = {
    ENOENT: 'no such file or directory',
    EACCES: 'permission denied',
    EPERM: 'operation not permitted',
    ELOOP: 'too many levels of symbolic links: a symlink loop?',
    ENOTDIR: 'a part of the path is not a directory',
    EISDIR: 'is a directory',
    ENOSPC: 'no space left on the device',
    EROFS: 'read-only file system',
    ENAMETOOLONG: 'name too long',
  };
  if (e?.code && meaning[e.code]) return `${e.code} (${meaning[e.code]})`;
  return e?.code ?? (e as Error)?.message ?? String(err);
}
