// The stream recipe's ablation: trains the default recipe and one variant per lever for streams,
// with one seed and one epoch budget, then measures each model as a spotter on the *validation*
// split only: its stream rule calibrated (bee calibrate: a dense validation stream and a negative
// one of seed 1), then bee listen on the dense validation stream (hit rate at fixed false-alarm
// rates, along the ROC) and on another negative validation stream (seed 2: false alarms an hour
// and compute share at the calibrated operating point). The test split stays unseen.
//
//   node --import tsx scripts/stream-ablate.ts --data DIR --noise-dir DIR [--split-salt bee] [--epochs 8]
//     [--hours 1] [--out runs/stream-ablate] [--only a,b]
//
// A finished variant (its ablation.json is there) is not measured again; a trained one (its last/
// checkpoint has all epochs) is not trained again.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { decimal } from '../src/util/decimal.ts';
import { runJson, trainingScriptOptions } from './run-bee.ts';

interface Variant {
  name: string;
  what: string;
  flags: string[];
  /** more flags, made before the variant trains (from what earlier variants left) */
  prepare?: () => string[];
}

const VARIANTS: Variant[] = [
  { name: 'default', what: 'the default recipe', flags: [] },
  { name: 'time-shift-0.3', what: 'time shifts up to 0.3 s (default 0.1): words anywhere in the window', flags: ['--time-shift', '0.3'] },
  { name: 'noise-snr', what: 'noise at -5 to 20 dB SNR (default: gains up to 0.1)', flags: ['--noise-snr', '-5,20'] },
  { name: 'noise-snr-0-30', what: 'noise at 0 to 30 dB SNR', flags: ['--noise-snr', '0,30'] },
  { name: 'cut-words', what: '15% of words cut half out of the window, labelled _unknown_', flags: ['--cut-words', '0.15'] },
  { name: 'synth-negatives', what: '+20% synthesized sentences without keywords, labelled _unknown_', flags: ['--synth-negatives', '0.2'] },
  { name: 'unknown-weight-2', what: "_unknown_'s examples weighted 2x in the loss (class weights)", flags: ['--class-weights', '_unknown_=2'] },
  {
    name: 'hard-negatives',
    what: "+ hard negatives: the default model's keyword windows on 2 h of training-split negatives (bee data mine)",
    flags: [],
    prepare: () => ['--hard-negatives', mineHardNegatives()],
  },
  {
    name: 'all',
    what: 'time shifts 0.3 s, noise at 0-30 dB, 15% cut words, +20% synthesized sentences',
    flags: ['--time-shift', '0.3', '--noise-snr', '0,30', '--cut-words', '0.15', '--synth-negatives', '0.2'],
  },
];

const { values } = parseArgs({
  options: { ...trainingScriptOptions({ epochs: '8', out: 'runs/stream-ablate' }), hours: { type: 'string', default: '1' } },
});
if (!values.data || !values['noise-dir']) {
  console.error(
    'usage: node --import tsx scripts/stream-ablate.ts --data DIR --noise-dir DIR [--split-salt bee] [--epochs 8] [--hours 1] [--out DIR] [--only a,b]',
  );
  process.exit(2);
}
const BEE = path.resolve('bin/bee.js');
const bee = (...args: string[]) => {
  const r = spawnSync(process.execPath, [BEE, ...args], { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`bee ${args.join(' ')} exited with ${r.status}`);
  return r.stdout;
};
/** bee listen --json's last line: the summary */
const listen = (...args: string[]) =>
  JSON.parse(
    bee('listen', ...args, '--json')
      .trim()
      .split('\n')
      .at(-1)!,
  );

const data = ['--data', values.data, '--split-salt', values['split-salt']!];
const noise = ['--noise-dir', values['noise-dir']];
const streams = path.join(values.out!, 'streams');
fs.mkdirSync(streams, { recursive: true });
const dense = path.join(streams, 'validation.wav');
const negatives = path.join(streams, 'negatives-validation-seed2.wav');
if (!fs.existsSync(dense)) bee('data', 'stream', ...data, ...noise, '--split', 'validation', '--out', dense);
if (!fs.existsSync(negatives))
  bee('data', 'stream', ...data, ...noise, '--split', 'validation', '--negatives', '--hours', values.hours!, '--seed', '2', '--out', negatives);
const truth = (wav: string) => wav.replace(/\.wav$/, '.csv');

/**
 * The hard negatives of the default variant's model (calibrated, as it listens): mined from a
 * negative stream of the *training* split, so that the validation streams stay unseen.
 */
function mineHardNegatives(): string {
  const model = path.join(values.out!, 'default', 'model.bee');
  if (!fs.existsSync(model)) throw new Error(`${model} is missing: the hard-negatives variant mines with the default variant's model (run it first)`);
  const stream = path.join(streams, 'negatives-train-seed3.wav');
  if (!fs.existsSync(stream)) bee('data', 'stream', ...data, ...noise, '--split', 'train', '--negatives', '--hours', '2', '--seed', '3', '--out', stream);
  const mined = path.join(values.out!, 'hard-negatives-mined');
  if (!fs.existsSync(mined)) console.error(bee('data', 'mine', stream, '--model', model, '--out', mined));
  return mined;
}

const chosen = values.only ? values.only.split(',').map((n) => VARIANTS.find((v) => v.name === n) ?? fail(n)) : VARIANTS;
function fail(name: string): never {
  console.error(`unknown variant ${name}; known: ${VARIANTS.map((v) => v.name).join(', ')}`);
  process.exit(2);
}
const results = [];
for (const v of chosen) {
  const dir = path.join(values.out!, v.name);
  const done = path.join(dir, 'ablation.json');
  if (!fs.existsSync(done)) {
    const started = performance.now();
    const flags = [...v.flags, ...(v.prepare?.() ?? [])];
    const metrics = path.join(dir, 'metrics.jsonl');
    const epochs = fs.existsSync(metrics) ? fs.readFileSync(metrics, 'utf8').trim().split('\n').length : 0;
    if (epochs < decimal(values.epochs!)) {
      console.error(`\n== ${v.name}: ${v.what}`);
      fs.rmSync(dir, { recursive: true, force: true });
      bee('train', ...data, ...noise, '--epochs', values.epochs!, '--seed', values.seed!, '--out', dir, ...flags);
    }
    const model = path.join(dir, 'model.bee');
    bee('export', '--model', dir, '--out', model, '--force');
    const calibrated = runJson(['calibrate', '--model', model, ...data, ...noise, '--false-alarms', '1', '--hours', values.hours!, '--json']) as {
      rule: unknown;
      dense: { hitRate: number; falseAlarmsPerHour: number };
      negatives: { falseAlarmsPerHour: number };
    };
    const denseScore = listen(dense, '--model', model, '--truth', truth(dense));
    const negativeScore = listen(negatives, '--model', model, '--truth', truth(negatives));
    const asBefore = listen(
      dense,
      '--model',
      model,
      '--truth',
      truth(dense),
      '--keyword-exit',
      '1',
      '--threshold',
      '0.85',
      '--smooth',
      '3',
      '--min-confidence',
      '0.7',
    );
    const history = fs
      .readFileSync(metrics, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const summary = {
      name: v.name,
      what: v.what,
      flags,
      // the best checkpoint's: the last epoch that was best when it ended
      validationExits: history.filter((r) => r.best).at(-1)?.validation?.accuracy,
      rule: calibrated.rule,
      calibration: { dense: calibrated.dense, negatives: calibrated.negatives },
      dense: { hitRate: denseScore.hitRate, falseAlarmsPerHour: denseScore.falseAlarmsPerHour, atFixedRates: denseScore.hitRateAtFalseAlarmsPerHour },
      denseDefaultRule: { atFixedRates: asBefore.hitRateAtFalseAlarmsPerHour },
      negatives: {
        falseAlarmsPerHour: negativeScore.falseAlarmsPerHour,
        computeShare: negativeScore.computeShare,
        hours: negativeScore.durationSeconds / 3600,
      },
      seconds: (performance.now() - started) / 1000,
    };
    fs.writeFileSync(done, `${JSON.stringify(summary, null, 2)}\n`);
  }
  results.push(JSON.parse(fs.readFileSync(done, 'utf8')));
}

const pct = (x: number | null | undefined) => (x === null || x === undefined ? 'n/r' : (100 * x).toFixed(1));
const rates = ['0.5', '1', '5', '20'];
const head =
  '| variant | val exits 1-4 (%) | dense val hits at 0.5 / 1 / 5 / 20 FA/h, calibrated rule (%) | same, the old rule (%) | at the calibrated point: dense hits, FA/h | negatives (seed 2): FA/h, compute |';
const lines = results.map(
  (r) =>
    `| ${r.what} | ${(r.validationExits ?? []).map(pct).join(' / ')} | ${rates.map((k) => pct(r.dense.atFixedRates[k])).join(' / ')} | ${rates.map((k) => pct(r.denseDefaultRule.atFixedRates[k])).join(' / ')} | ${pct(r.dense.hitRate)}%, ${r.dense.falseAlarmsPerHour.toFixed(1)} | ${r.negatives.falseAlarmsPerHour.toFixed(2)}, ${pct(r.negatives.computeShare)}% |`,
);
const table = [head, '| --- | --- | --- | --- | --- | --- |', ...lines].join('\n');
fs.writeFileSync(path.join(values.out!, 'ablation.md'), `${table}\n`);
fs.writeFileSync(path.join(values.out!, 'ablation.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(table);
console.log(`\n${values.epochs} epochs, seed ${values.seed}, negatives ${values.hours} h; ${path.join(values.out!, 'ablation.md')}`);
