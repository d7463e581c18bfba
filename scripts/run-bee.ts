// What the training scripts (ablate.ts, zoo.ts) share: running bee (or a bench script) for its
// JSON, and sweeping a model on a split.
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const BEE = path.resolve('bin/bee.js');

/** Runs `bee ARGS` (or, with `script`, `node --import tsx SCRIPT ARGS`) and parses its JSON output; stderr passes through. */
export function runJson(args: string[], script?: string): unknown {
  const command = script ? ['--import', 'tsx', script, ...args] : [BEE, ...args];
  const r = spawnSync(process.execPath, command, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`${script ? path.basename(script) : 'bee'} ${args.join(' ')} exited with ${r.status}`);
  return JSON.parse(r.stdout);
}

export interface SweepRow {
  criterion: string;
  threshold: number;
  accuracy: number;
  meanExit: number;
  relativeCompute: number;
}

export interface SweepJson {
  rows: SweepRow[];
  exits: { exit: number; accuracy: number; relativeCompute: number }[];
  cheapestWithin1Point: Record<string, SweepRow | null>;
}

/** `bee sweep` of the model in `dir` on a split, its files in dir/sweep-SPLIT. */
export function sweepOf(dir: string, data: string[], split: string): SweepJson {
  return runJson(['sweep', '--model', dir, ...data, '--split', split, '--out', path.join(dir, `sweep-${split}`), '--json']) as SweepJson;
}

/** The sweep row of a max-softmax threshold. */
export const atThreshold = (rows: SweepRow[], threshold: number) => rows.find((r) => r.criterion === 'max-softmax' && r.threshold === threshold)!;

/** The options every training script takes (parseArgs): data, noise, split, budget, seed, where, which variants. */
export function trainingScriptOptions(defaults: { epochs: string; out: string }) {
  return {
    data: { type: 'string' },
    'noise-dir': { type: 'string' },
    'split-salt': { type: 'string', default: 'bee' },
    epochs: { type: 'string', default: defaults.epochs },
    seed: { type: 'string', default: '1' },
    out: { type: 'string', default: defaults.out },
    only: { type: 'string' },
  } as const;
}
