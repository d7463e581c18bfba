import fs from 'node:fs';
import path from 'node:path';
import { BeeError } from '../errors.js';
import { processAlive } from './atomic.js';
import { describeError } from './read-file.js';

export const LOCK_FILE = '.lock';

/** Locks this process holds: a second lock of one directory within a process is refused too. */
const heldHere = new Set<string>();

/**
 * An exclusive lock on a run directory: `dir/.lock`, created atomically (O_EXCL) and holding the
 * owner's PID. A lock whose process is gone is stale: it is removed and taken. Returns the release
 * function; the lock also goes when the process exits normally.
 */
export function lockDirectory(dir: string, what = 'run directory'): () => void {
  const file = path.resolve(dir, LOCK_FILE);
  if (heldHere.has(file)) throw new BeeError('is in use by this process already', { file: dir, hint: 'one training run per directory at a time' });
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      fs.writeFileSync(file, `${process.pid}\n`, { flag: 'wx' });
      heldHere.add(file);
      const release = () => {
        if (!heldHere.delete(file)) return;
        process.off('exit', release);
        fs.rmSync(file, { force: true });
      };
      process.on('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new BeeError(`cannot lock the ${what}: ${describeError(err)}`, { file: dir, hint: 'pick a writable --out' });
      }
    }
    const pid = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10);
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && processAlive(pid)) {
      throw new BeeError(`is in use by another bee process (PID ${pid})`, {
        file: dir,
        hint: `wait for it to end, or pick another --out; if no such process runs, remove ${file}`,
      });
    }
    // stale (its process is gone) or unreadable: take it over. The rename makes two processes
    // that both found it stale remove it once; the loser's write then fails with EEXIST.
    try {
      fs.renameSync(file, `${file}.stale-${process.pid}`);
      fs.rmSync(`${file}.stale-${process.pid}`, { force: true });
    } catch {
      // someone else cleared it first: try again
    }
  }
  throw new BeeError(`cannot lock the ${what}: the lock keeps changing hands`, { file: dir, hint: 'pick another --out' });
}
