import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { allExitProbabilities } from '../../exits/evaluate.js';
import { sweep, sweepCsv } from '../../exits/sweep.js';
import { tradeoffSvg } from '../../report/plot.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { addEvaluationOptions } from '../exit-options.js';
import { type EvaluationFlags, loadEvaluationInput } from '../evaluation-input.js';
import { printJson } from '../io.js';
import { formatTable } from '../table.js';

export const sweepCommand = addEvaluationOptions(
  new Command('sweep').description('the speed/accuracy trade-off over a grid of thresholds, from one pass over the split'),
)
  .option('--out <dir>', 'where sweep.csv, sweep.json and sweep.svg go', 'sweep')
  .option('--json', 'print the JSON (also written to --out)')
  .addHelpText('after', `
Every exit's softmax is computed once per clip; the metrics of each threshold (max-softmax 0-1,
normalized entropy 0-1) follow from those, by the same rule bee eval applies clip by clip.

Examples:
  $ bee sweep --model runs/sc --out runs/sc/sweep
  $ bee sweep --model runs/sc --split validation --json | jq '.rows[] | select(.criterion == "entropy")'`)
  .action(async (flags: EvaluationFlags & { out: string; json?: boolean }) => {
    const input = await loadEvaluationInput(flags);
    const allProbs = allExitProbabilities(input.staged, input.table, input.examples);
    input.staged.dispose();
    const result = sweep(allProbs, input.examples.labels, input.meta.labels, input.cost.exits.map((e) => e.relativeMacs));
    const json = { model: input.dir, split: flags.split, samples: input.examples.rows.length, ...result };
    fs.mkdirSync(flags.out, { recursive: true });
    writeFileAtomic(path.join(flags.out, 'sweep.json'), JSON.stringify(json, null, 2) + '\n');
    writeFileAtomic(path.join(flags.out, 'sweep.csv'), sweepCsv(result));
    writeFileAtomic(path.join(flags.out, 'sweep.svg'), tradeoffSvg(result, `${input.dir} (${input.meta.network.precision}), ${flags.split} split, ${json.samples} clips`));
    if (flags.json) return printJson(json);
    const pick = result.rows.filter((r) => r.criterion === 'max-softmax' && [0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1].includes(r.threshold));
    console.log(formatTable(['max softmax >=', 'accuracy', 'mean exit', 'compute'], pick.map((r) => [String(r.threshold), `${(100 * r.accuracy).toFixed(1)}%`, r.meanExit.toFixed(2), `${(100 * r.relativeCompute).toFixed(1)}%`])));
    console.log(`\nwrote ${['sweep.csv', 'sweep.json', 'sweep.svg'].map((f) => path.join(flags.out, f)).join(', ')}`);
  });
