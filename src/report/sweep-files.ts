import path from 'node:path';
import { sweepCsv, type SweepResult } from '../exits/sweep.js';
import { writeFileAtomic } from '../util/atomic.js';
import { tradeoffSvg } from './plot.js';
import { makeDir } from '../util/make-dir.js';
import { describeError } from '../util/read-file.js';
import { BeeError } from '../errors.js';

/** Writes a sweep as sweep.json (`json`, which holds the result), sweep.csv and sweep.svg in `dir`; returns their paths. */
export function writeSweepFiles(dir: string, json: object, result: SweepResult, title: string): string[] {
  makeDir(dir, 'sweep directory');
  const files = { 'sweep.csv': sweepCsv(result), 'sweep.json': JSON.stringify(json, null, 2) + '\n', 'sweep.svg': tradeoffSvg(result, title) };
  return Object.entries(files).map(([name, content]) => {
    const file = path.join(dir, name);
    try {
      writeFileAtomic(file, content);
    } catch (err) {
      if (!(err as NodeJS.ErrnoException).code) throw err;
      throw new BeeError(`cannot write: ${describeError(err)}`, { file, hint: 'check free disk space and permissions, or pass another --out' });
    }
    return file;
  });
}
