// The few-shot benchmark (docs/custom-words.md): the ten digits of the shared data's _unknown_
// folder, which the shipped model was trained to call _unknown_. For k examples a digit from
// training-split speakers (--split-salt bee), several draws of them: a custom model trained
// --freeze body (new exit heads, plain TypeScript, from the shipped transfer base), --freeze none
// (every layer fine-tuned, from the transfer base's run directory) and from scratch, each scored on
// every digit clip of the test-split speakers (full network, per exit), and the early-exit sweep
// of a --freeze body model. The bee train runs see --tf-examples augmented examples (epochs of the
// handful of clips; --freeze none at the fine-tuning rate bee train --from gives it), the heads
// 200 a word for 10 epochs. Negatives as `bee train --from` makes them for a user who gives none:
// --noise-dir as the background, other words in synthetic voices as _unknown_.
//
//   node --import tsx scripts/few-shot.ts --data ../shared/data/speech-commands-v0.02-test \
//     --noise-dir ../shared/data/speech-commands-background-noise [--full-model runs/pretrained/base] [--json]
// (--full-model: the run scripts/pretrained.ts makes, for --freeze none; without it that mode is left out)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { encodeWav } from '../src/audio/wav.js';
import { type Clip, findWavs, loadDataset } from '../src/data/dataset.js';
import { engineFor } from '../src/engine/engine-for.js';
import { readPackedFile, writePackedFile } from '../src/engine/packed-file.js';
import { PRETRAINED_BASE } from '../src/exits/pretrained.js';
import { ClipFeaturizer } from '../src/features/featurize.js';
import { argmax, neverEarly } from '../src/spec/exit-rules.js';
import { UNKNOWN } from '../src/spec/labels.js';
import { DEFAULT_TRANSFER, trainHeads } from '../src/transfer/custom-model.js';
import { synthesizedUnknown } from '../src/transfer/folder-examples.js';
import { writeNegatives } from '../src/transfer/negative-folders.js';
import { rngFor, shuffle } from '../src/util/rng.js';
import { numberOption } from './number-option.js';
import { runJson, type SweepJson } from './run-bee.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    'noise-dir': { type: 'string' },
    model: { type: 'string', default: PRETRAINED_BASE },
    'full-model': { type: 'string' },
    shots: { type: 'string', default: '1,3,5,10' },
    'tf-shots': { type: 'string', default: '3,10' },
    draws: { type: 'string', default: '5' },
    modes: { type: 'string', default: 'body,none,scratch' },
    'tf-examples': { type: 'string', default: '8000' },
    out: { type: 'string', default: path.join(os.tmpdir(), 'bee-few-shot') },
    json: { type: 'boolean' },
  },
});
if (!args.data || !args['noise-dir']) {
  console.error('usage: scripts/few-shot.ts --data SPEECH_COMMANDS_TEST_SET --noise-dir NOISE [--full-model RUN] [--shots 1,3,5,10] [--draws 5] [--json]');
  process.exit(2);
}

const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const numbers = (value: string, flag: string) => value.split(',').map((v) => numberOption(v, flag, 'few-shot'));
const shots = numbers(args.shots, '--shots');
const tfShots = new Set(numbers(args['tf-shots'], '--tf-shots'));
const draws = numberOption(args.draws, '--draws', 'few-shot');
const tfExamples = numberOption(args['tf-examples'], '--tf-examples', 'few-shot');
const modes = args.modes.split(',');
const log = (line: string) => process.stderr.write(`${line}\n`);

const source = readPackedFile(args.model);
const params = source.header.features;
const featurizer = new ClipFeaturizer(params);
const dataset = loadDataset(args.data, { split: { salt: 'bee' } });
const wordOf = (clip: Clip) => path.basename(clip.file).split('_')[0];
const digitClips = (split: string) => dataset.clips.filter((c) => c.label === UNKNOWN && c.split === split && DIGITS.includes(wordOf(c)));
const train = digitClips('train');
const test = digitClips('test');
const testFeatures = test.map((c) => featurizer.featurize(c));
const noiseFiles = findWavs(path.resolve(args['noise-dir']));
const noise = noiseFiles.map((f) => featurizer.recording(f));
const unknown = synthesizedUnknown(DIGITS, params.sampleRate);
log(
  `digits: ${train.length} training-split clips, ${test.length} test-split clips; negatives: ${noiseFiles.length} noise recordings, ${unknown.length} synthesized words`,
);

/** The k clips of each digit of draw d: a fixed shuffle of the training-split speakers' clips. */
function drawClips(k: number, d: number): Map<string, Clip[]> {
  return new Map(
    DIGITS.map((w) => [
      w,
      shuffle(
        train.filter((c) => wordOf(c) === w),
        rngFor(1000 + d, DIGITS.indexOf(w)),
      ).slice(0, k),
    ]),
  );
}

/** Accuracy per exit (full network) of a packed model on the test-split digits. */
function scorePacked(model: ReturnType<typeof readPackedFile>): number[] {
  const engine = engineFor(model);
  const never = neverEarly(engine.exits);
  const correct = new Array<number>(engine.exits).fill(0);
  testFeatures.forEach((f, i) => {
    engine.run(f, never);
    engine.probabilities.forEach((p, e) => {
      if (model.header.labels[argmax(p)] === wordOf(test[i])) correct[e]++;
    });
  });
  return correct.map((c) => c / test.length);
}

/** A folder dataset for bee train: the drawn clips, the negatives bee train --from --freeze none adds, the noise. */
function folderDataset(dir: string, clips: Map<string, Clip[]>, d: number): void {
  fs.rmSync(dir, { recursive: true, force: true });
  for (const [w, list] of clips) {
    fs.mkdirSync(path.join(dir, w), { recursive: true });
    for (const [i, c] of list.entries())
      fs.writeFileSync(path.join(dir, w, `${i}.wav`), encodeWav({ sampleRate: params.sampleRate, channels: [featurizer.samples(c)], bits: 16 }));
  }
  const examples = [...clips.values()].reduce((n, l) => n + l.length, 0);
  writeNegatives(dir, { noise, unknown, count: Math.max(3, Math.round(examples / clips.size)), params, seed: 2000 + d });
  fs.mkdirSync(path.join(dir, '_background_noise_'));
  for (const f of noiseFiles) fs.symlinkSync(f, path.join(dir, '_background_noise_', path.basename(f)));
}

/** Trains with bee train on a folder dataset (every clip in the train split); accuracy per exit of its best checkpoint on the test digits. */
function scoreTrained(k: number, d: number, mode: 'none' | 'scratch'): { accuracy: number[]; seconds: number } {
  const data = path.join(args.out, 'data', `${mode}-k${k}-d${d}`);
  const run = path.join(args.out, 'runs', `${mode}-k${k}-d${d}`);
  folderDataset(data, drawClips(k, d), d);
  fs.rmSync(run, { recursive: true, force: true });
  const started = performance.now();
  // a handful of clips is an epoch of a few steps: as many epochs as make --tf-examples examples
  const clips = findWavs(data).filter((f) => !f.includes('_background_noise_')).length;
  const epochs = String(Math.ceil(tfExamples / clips));
  const from = mode === 'none' ? ['--from', args['full-model']!, '--freeze', 'none'] : [];
  runJson([
    'train',
    '--data',
    data,
    '--validation-percent',
    '0',
    '--test-percent',
    '0',
    '--seed',
    String(d + 1),
    '--epochs',
    epochs,
    '--out',
    run,
    '--json',
    ...from,
  ]);
  const seconds = (performance.now() - started) / 1000;
  const packed = path.join(run, 'model.bee');
  runJson(['export', '--model', run, '--out', packed, '--json']);
  return { accuracy: scorePacked(readPackedFile(packed)), seconds };
}

interface Result {
  mode: string;
  k: number;
  draw: number;
  accuracy: number[];
  seconds: number;
}
const results: Result[] = [];
fs.mkdirSync(args.out, { recursive: true });
for (const k of shots) {
  for (let d = 0; d < draws; d++) {
    const clips = drawClips(k, d);
    if (modes.includes('body')) {
      const words = new Map([...clips].map(([w, list]) => [w, list.map((c) => featurizer.samples(c))]));
      const started = performance.now();
      const { model } = trainHeads(source, { words, noise, unknown }, { ...DEFAULT_TRANSFER, seed: d + 1 });
      const seconds = (performance.now() - started) / 1000;
      results.push({ mode: 'body', k, draw: d, accuracy: scorePacked(model), seconds });
      if (k === Math.max(...shots)) writePackedFile(path.join(args.out, `body-k${k}-d${d}.bee`), model);
    }
    for (const mode of ['none', 'scratch'] as const) {
      if (!modes.includes(mode) || !tfShots.has(k)) continue;
      if (mode === 'none' && !args['full-model']) continue;
      results.push({ mode, k, draw: d, ...scoreTrained(k, d, mode) });
    }
    for (const r of results.filter((r) => r.k === k && r.draw === d))
      log(`k=${k} draw ${d} ${r.mode}: ${r.accuracy.map((a) => (100 * a).toFixed(1)).join(' / ')} (${r.seconds.toFixed(1)} s)`);
  }
}

/** Mean and sample standard deviation. */
const stats = (xs: number[]) => {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  const sd = xs.length > 1 ? Math.sqrt(xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (xs.length - 1)) : 0;
  return { mean, sd };
};
const table = modes
  .flatMap((mode) => shots.map((k) => ({ mode, k })))
  .flatMap(({ mode, k }) => {
    const rows = results.filter((r) => r.mode === mode && r.k === k);
    if (!rows.length) return [];
    const exits = rows[0].accuracy.length;
    return {
      mode,
      k,
      draws: rows.length,
      accuracy: Array.from({ length: exits }, (_, e) => stats(rows.map((r) => r.accuracy[e]))),
      seconds: stats(rows.map((r) => r.seconds)),
    };
  });

// The early-exit trade-off of the --freeze body models of the largest k, on the test digits.
const sweeps: { draw: number; exit4: number; cheapestWithin1Point: unknown }[] = [];
if (modes.includes('body')) {
  const k = Math.max(...shots);
  const testDir = path.join(args.out, 'test-digits');
  fs.rmSync(testDir, { recursive: true, force: true });
  for (const c of test) {
    fs.mkdirSync(path.join(testDir, wordOf(c)), { recursive: true });
    fs.symlinkSync(c.file, path.join(testDir, wordOf(c), path.basename(c.file)));
  }
  for (let d = 0; d < draws; d++) {
    const model = path.join(args.out, `body-k${k}-d${d}.bee`);
    const sweep = runJson([
      'sweep',
      '--model',
      model,
      '--data',
      testDir,
      '--validation-percent',
      '0',
      '--test-percent',
      '100',
      '--out',
      path.join(args.out, `sweep-d${d}`),
      '--json',
    ]) as SweepJson;
    sweeps.push({ draw: d, exit4: sweep.exits.at(-1)!.accuracy, cheapestWithin1Point: sweep.cheapestWithin1Point['max-softmax'] });
  }
}

const report = { digits: { train: train.length, test: test.length }, draws, table, sweeps, results };
if (args.json) console.log(JSON.stringify(report, null, 2));
else {
  const pct = (s: { mean: number; sd: number }) => `${(100 * s.mean).toFixed(1)} ± ${(100 * s.sd).toFixed(1)}`;
  console.log('mode     k  draws  accuracy per exit (mean ± sd, %)                     seconds');
  for (const row of table)
    console.log(
      `${row.mode.padEnd(8)} ${String(row.k).padStart(2)}  ${String(row.draws).padStart(5)}  ${row.accuracy.map(pct).join(' / ').padEnd(52)} ${row.seconds.mean.toFixed(1)}`,
    );
  for (const s of sweeps)
    console.log(`sweep draw ${s.draw}: exit 4 ${(100 * s.exit4).toFixed(1)}%, cheapest within 1 point: ${JSON.stringify(s.cheapestWithin1Point)}`);
}
