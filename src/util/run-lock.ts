import fs from 'node:fs';
import path from 'node:path';
import { BeeError } from '../errors.js';
import { processAlive } from './atomic.js';
import { describeError } from './read-file.js';

export const LOCK_FILE = '.lock';

/** The PID a lock file holds, null if it holds none, 'gone' if there is no such file (any more). */
function lockOwner(file: string): number | null | 'gone' {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw new BeeError(`cannot read the lock: ${describeError(err)}`, { file, hint: 'remove it if no bee process uses the directory' });
  }
  const pid = Number.parseInt(text.trim(), 10);
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

/** Locks this process holds: a second lock of one directory within a process is refused too. */
const heldHere = new Set<string>();

/**
 * An exclusive lock on a run directory: `dir/.lock`, holding the owner's PID, created atomically
 * (a hard link fails where the name exists). A lock whose process is gone is stale: it is moved
 * aside, checked again, and taken. Returns the release function; the lock also goes when the
 * process exits normally.
 */
export function lockDirectory(dir: string, what = 'run directory'): () => void {
  const file = path.resolve(dir, LOCK_FILE);
  if (heldHere.has(file)) throw new BeeError('is in use by this process already', { file: dir, hint: 'one training run per directory at a time' });
  const fail = (err: unknown) => new BeeError(`cannot lock the ${what}: ${describeError(err)}`, { file: dir, hint: 'pick a writable --out' });
  for (let attempt = 0; attempt < 5; attempt++) {
    // The PID is written to a file of our own, then linked into place: the lock never exists
    // without its owner's PID in it, so no one can read it empty and take it for stale.
    const mine = `${file}.${process.pid}.tmp`;
    let taken: boolean;
    try {
      fs.writeFileSync(mine, `${process.pid}\n`);
      try {
        fs.linkSync(mine, file);
        taken = true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        taken = false;
      } finally {
        fs.rmSync(mine, { force: true });
      }
    } catch (err) {
      throw fail(err);
    }
    if (taken) {
      heldHere.add(file);
      const release = () => {
        if (!heldHere.delete(file)) return;
        process.off('exit', release);
        fs.rmSync(file, { force: true });
      };
      process.on('exit', release);
      return release;
    }
    const owner = lockOwner(file);
    if (owner === 'gone') continue; // released meanwhile: try again
    if (owner !== null && owner !== process.pid && processAlive(owner)) {
      throw new BeeError(`is in use by another bee process (PID ${owner})`, {
        file: dir,
        hint: `wait for it to end, or pick another --out; if no such process runs, remove ${file}`,
      });
    }
    // Stale: its process is gone (or it holds no PID). Moved aside first, then checked again: if
    // another process replaced it meanwhile with a live lock of its own, that lock is put back.
    const aside = `${file}.stale-${process.pid}`;
    try {
      fs.renameSync(file, aside);
    } catch {
      continue; // someone else moved it first
    }
    const moved = lockOwner(aside);
    if (typeof moved === 'number' && moved !== owner && processAlive(moved)) {
      try {
        fs.linkSync(aside, file);
      } catch {
        // a third process holds it now: ours is refused below, on the next attempt
      }
    }
    fs.rmSync(aside, { force: true });
  }
  throw new BeeError(`cannot lock the ${what}: the lock keeps changing hands`, { file: dir, hint: 'pick another --out' });
}
