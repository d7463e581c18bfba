import fs from 'node:fs';
import path from 'node:path';
import { BeeError } from '../errors.js';
import { describeError } from './read-file.js';

/**
 * Creates a directory and its missing parents, or throws a one-line BeeError naming it. Every
 * directory bee creates goes through here: Node's own recursive mkdirSync loops forever where
 * mkdir keeps answering ENOENT under an existing parent (/proc/x); this walks each level once.
 */
export function makeDir(dir: string, what = 'directory'): void {
  const target = path.resolve(dir);
  const missing: string[] = [];
  for (let at = target; ; at = path.dirname(at)) {
    let stat: fs.Stats | undefined;
    try {
      stat = fs.statSync(at);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw failure(dir, what, err);
    }
    if (!stat && fs.lstatSync(at, { throwIfNoEntry: false })?.isSymbolicLink()) {
      throw new BeeError(`cannot create the ${what}: ${at} is a symlink to nothing`, { file: dir, hint: 'remove the dangling symlink, or pick another path' });
    }
    if (stat) {
      if (!stat.isDirectory()) throw new BeeError(`cannot create the ${what}: ${at} is not a directory`, { file: dir, hint: 'pick another path' });
      break;
    }
    missing.push(at);
    if (path.dirname(at) === at) break;
  }
  for (const at of missing.reverse()) {
    try {
      fs.mkdirSync(at);
    } catch (err) {
      // another process made it meanwhile: fine, if it is a directory
      if ((err as NodeJS.ErrnoException).code === 'EEXIST' && fs.statSync(at, { throwIfNoEntry: false })?.isDirectory()) continue;
      throw failure(dir, what, err);
    }
  }
}

const failure = (dir: string, what: string, err: unknown) =>
  new BeeError(`cannot create the ${what}: ${describeError(err)}`, { file: dir, hint: 'pick a writable path' });
