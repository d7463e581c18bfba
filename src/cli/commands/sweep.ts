import { Command } from 'commander';
import { fitExitTemperatures } from '../../exits/temperatures.js';
import { BeeError } from '../../errors.js';
import { isPackedFile } from '../../engine/packed-file.js';
import { cheapestPerExit } from '../../exits/per-exit-search.js';
import { cheapestWithin, sweep, type SweepRow } from '../../exits/sweep.js';
import { writeModelMeta } from '../../model/saved-model.js';
import { writeSweepFiles } from '../../report/sweep-files.js';
import { addEvaluationOptions } from '../exit-options.js';
import { type EvaluationFlags, loadEvaluationInput } from '../evaluation-input.js';
import { notice, printJson } from '../io.js';
import { formatTable } from '../table.js';

export const sweepCommand = addEvaluationOptions(
  new Command('sweep').description('the speed/accuracy trade-off over a grid of thresholds, from one pass over the split'),
)
  .option('--out <dir>', 'where sweep.csv, sweep.json and sweep.svg go', 'sweep')
  .option('--calibrate', 'fit a softmax temperature per exit on the validation split, save it with the model, and compare before/after')
  .option('--json', 'print the JSON (also written to --out)')
  .addHelpText(
    'after',
    `
Every exit's softmax is computed once per clip; the metrics of each threshold (max-softmax 0-1,
normalized entropy 0-1) follow from those, by the same rule bee eval applies clip by clip. It
also searches one max-softmax threshold per exit (0-1 by 0.02 each) for the cheapest rule within
1 point of the full network: search it on the validation split, report it on the test split.

Examples:
  $ bee sweep --model runs/sc --out runs/sc/sweep
  $ bee sweep --model runs/sc --split validation  # then bee eval --threshold T1,T2,T3 on test
  $ bee sweep --model runs/sc --calibrate          # then bee eval/predict use the temperatures
  $ bee sweep --model runs/sc --split validation --json | jq '.rows[] | select(.criterion == "entropy")'`,
  )
  .action(async (flags: EvaluationFlags & { out: string; calibrate?: boolean; json?: boolean }) => {
    const readOnly = () =>
      new BeeError('--calibrate saves the temperatures in a model directory; a packed file is read-only', {
        file: flags.model,
        hint: 'calibrate the model directory, then bee export it again',
      });
    if (flags.calibrate && isPackedFile(flags.model)) throw readOnly(); // before any heavy work
    const { model, table, examples } = await loadEvaluationInput(flags);
    const { classifier, labels } = model;
    const macs = model.exitCosts.map((e) => e.relativeMacs);
    const outputs = () => classifier.exitOutputs(table, examples.rows);
    const run = () => sweep(outputs(), examples.labels, labels, macs);
    let calibration: { temperatures: number[]; before: SweepRow[] } | undefined;
    if (flags.calibrate) {
      if (!model.meta) throw readOnly();
      if (flags.split === 'validation') notice('calibrating on the validation split and sweeping it too: the "after" figures are optimistic');
      const temperatures = fitExitTemperatures(classifier, table, labels);
      classifier.temperatures = classifier.temperatures.map(() => 1);
      const before = run().rows;
      classifier.temperatures = temperatures;
      calibration = { temperatures, before };
      writeModelMeta(model.source, { ...model.meta, calibration: { temperatures, split: 'validation', date: new Date().toISOString() } });
    }
    const probs = outputs();
    const result = sweep(probs, examples.labels, labels, macs);
    classifier.dispose();
    const cheapest = { 'max-softmax': cheapestWithin(result, 'max-softmax'), entropy: cheapestWithin(result, 'entropy') };
    const perExit = cheapestPerExit(probs, examples.labels, labels.length, macs);
    const json = {
      model: model.source,
      engine: model.engine,
      split: flags.split,
      samples: examples.rows.length,
      temperatures: classifier.temperatures,
      ...result,
      cheapestWithin1Point: cheapest,
      cheapestPerExitWithin1Point: perExit,
      ...(calibration ? { calibration } : {}),
    };
    const files = writeSweepFiles(flags.out, json, result, `${model.source} (${model.precision}), ${flags.split} split, ${json.samples} clips`);
    if (flags.json) return printJson(json);
    const shown = [0.5, 0.7, 0.8, 0.85, 0.9, 0.95, 0.99, 1];
    const pick = (rows: SweepRow[]) => rows.filter((r) => r.criterion === 'max-softmax' && shown.includes(r.threshold));
    const cells = (r: SweepRow) => [`${(100 * r.accuracy).toFixed(1)}%`, r.meanExit.toFixed(2), `${(100 * r.relativeCompute).toFixed(1)}%`];
    if (calibration) {
      console.log(`temperatures fitted on the validation split, saved in ${model.source}: ${calibration.temperatures.map((t) => t.toFixed(3)).join(', ')}\n`);
      const before = pick(calibration.before);
      console.log(
        formatTable(
          ['max softmax >=', 'accuracy', 'mean exit', 'compute', 'calibrated: accuracy', 'mean exit', 'compute'],
          pick(result.rows).map((r, i) => [String(r.threshold), ...cells(before[i]), ...cells(r)]),
        ),
      );
    } else {
      console.log(
        formatTable(
          ['max softmax >=', 'accuracy', 'mean exit', 'compute'],
          pick(result.rows).map((r) => [String(r.threshold), ...cells(r)]),
        ),
      );
    }
    for (const [criterion, row] of Object.entries(cheapest)) {
      if (row)
        console.log(
          `\ncheapest ${criterion} threshold within 1 point of the full network: ${row.threshold} (accuracy ${(100 * row.accuracy).toFixed(1)}%, compute ${(100 * row.relativeCompute).toFixed(1)}%, mean exit ${row.meanExit.toFixed(2)})`,
        );
    }
    if (perExit) {
      const t = perExit.thresholds.join(',');
      console.log(
        `\ncheapest max-softmax threshold per exit within 1 point: ${t} (accuracy ${(100 * perExit.accuracy).toFixed(1)}%, compute ${(100 * perExit.relativeCompute).toFixed(1)}%, mean exit ${perExit.meanExit.toFixed(2)}): bee eval --threshold ${t}`,
      );
    }
    console.log(`\nwrote ${files.join(', ')}`);
  });
