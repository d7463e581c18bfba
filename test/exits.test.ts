import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../src/backend/backend.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { loadFeatures } from '../src/data/feature-cache.ts';
import { featuresOf } from '../src/spec/classifier.ts';
import { evaluateEarlyExit, outcomesFromProbabilities } from '../src/exits/evaluate.ts';
import { splitExamples } from '../src/data/split-examples.ts';
import { buildReport, expectedCalibrationError } from '../src/exits/report.ts';
import { exitFor, normalizedEntropy, parseThresholds, shouldExit } from '../src/spec/exit-rules.ts';
import { TfjsClassifier } from '../src/exits/tfjs-classifier.ts';
import { cheapestWithin, sweep } from '../src/exits/sweep.ts';
import { cheapestPerExit } from '../src/exits/per-exit-search.ts';
import { windowStarts } from '../src/exits/predict.ts';
import { fitTemperature } from '../src/spec/temperature.ts';
import { mulberry32 } from '../src/util/rng.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { modelCost } from '../src/model/costs.ts';
import { loadModelDir } from '../src/model/saved-model.ts';
import { train } from '../src/train/trainer.ts';
import { assertOneLineError, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset } from './helpers/tones.ts';

let cache: string;
const bee = (...args: string[]) => beeWithCache(cache)(...args);
let run: string;
let dataRoot: string;

before(async () => {
  await initBackend();
  cache = tempDir('bee-cache-');
  dataRoot = tempDir('bee-tones-');
  makeToneDataset(dataRoot, undefined, 24, 4);
  const dataset = loadDataset(dataRoot, { split: { salt: 'bee', validationPercent: 20, testPercent: 20 } });
  const table = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir: cache });
  run = path.join(tempDir(), 'run');
  await train({
    dataset,
    table,
    out: run,
    options: { epochs: 6, batchSize: 8, learningRate: 3e-3, exitWeights: [1, 1, 1, 1], seed: 7, precision: 'binary', width: 0.25, augment: false },
  });
});

test('exit rules: max-softmax, normalized entropy, per-exit thresholds, threshold 1 never exits early', () => {
  const sure = [1, 0, 0];
  const unsure = [0.5, 0.3, 0.2];
  const rule = { criterion: 'max-softmax' as const, thresholds: [0.9, 0.45, 0.6] };
  assert.equal(exitFor([unsure, unsure, sure, sure], rule), 2); // 0.5 >= 0.45 at exit 2
  assert.equal(exitFor([unsure, [0.4, 0.3, 0.3], [0.55, 0.4, 0.05], unsure], rule), 4);
  assert.equal(shouldExit(sure, 1, 4, { criterion: 'max-softmax', thresholds: [1, 1, 1] }), false, 'a softmax saturated at exactly 1');
  assert.equal(shouldExit(unsure, 4, 4, { criterion: 'max-softmax', thresholds: [1, 1, 1] }), true, 'the last exit always answers');
  assert.equal(normalizedEntropy([1 / 3, 1 / 3, 1 / 3]), 1);
  assert.equal(normalizedEntropy(sure), 0);
  assert.equal(exitFor([unsure, sure, sure, sure], { criterion: 'entropy', thresholds: [0.1, 0.1, 0.1] }), 2);
  assert.deepEqual(parseThresholds('0.85', 4), [0.85, 0.85, 0.85]);
  assert.deepEqual(parseThresholds('0.9,0.85,0.8', 4), [0.9, 0.85, 0.8]);
  assert.throws(() => parseThresholds('1.2', 4), /not in \[0, 1\]/);
  assert.throws(() => parseThresholds('0.9,0.8', 4), /--threshold: expected 1 value or 3 \(one per exit but the last\), got 2/);
});

test('report numbers from known exit confidences, computed by hand', () => {
  // Three classes, four exits, four examples; probabilities per exit, example-major.
  const p = (...rows: number[][]) => Float32Array.from(rows.flat());
  const allProbs = [
    p([0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.4, 0.3, 0.3], [0.34, 0.33, 0.33]),
    p([0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.2, 0.6], [0.1, 0.1, 0.8]),
    p([0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.1, 0.1, 0.8], [0.1, 0.1, 0.8]),
    p([0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.05, 0.05, 0.9], [0.1, 0.8, 0.1]),
  ];
  const labels = Int32Array.of(0, 1, 2, 2);
  const outcomes = outcomesFromProbabilities(allProbs, labels, 3, { criterion: 'max-softmax', thresholds: [0.85, 0.75, 0.85] });
  // Example 0 exits at 1 (0.9); 1 at 2 (0.8); 2 at 4 (0.6, 0.8 < 0.85 at 3); 3 at 2 (0.8 >= 0.75).
  assert.deepEqual(
    outcomes.map((o) => o.exit),
    [1, 2, 4, 2],
  );
  const relativeMacs = [0.1, 0.4, 0.7, 1];
  const r = buildReport(outcomes, allProbs, ['a', 'b', 'c'], relativeMacs);
  assert.equal(r.accuracy, 1);
  assert.equal(r.meanExit, 9 / 4);
  assert.equal(r.stdExit, Math.sqrt(((1 - 2.25) ** 2 + 0.25 ** 2 + 1.75 ** 2 + 0.25 ** 2) / 4));
  assert.deepEqual(r.exitHistogram, [1, 2, 0, 1]);
  assert.ok(Math.abs(r.relativeCompute - (0.1 + 0.4 + 1 + 0.4) / 4) < 1e-12);
  assert.deepEqual(
    r.perExit.map((e) => e.accuracyAll),
    [0.5, 1, 1, 0.75],
  );
  assert.deepEqual(
    r.perExit.map((e) => e.accuracyExited),
    [1, 1, null, 1],
  );
  assert.deepEqual(
    r.perClass.map((c) => [c.label, c.count, c.accuracy, c.meanExit]),
    [
      ['a', 1, 1, 1],
      ['b', 1, 1, 2],
      ['c', 2, 1, 3],
    ],
  );
  assert.deepEqual(r.confusion.matrix, [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 2],
  ]);
  // Exit 1: confidences 0.9, 0.7, 0.4, 0.34 (correct, correct, wrong, wrong), each in its own bin.
  assert.ok(Math.abs(r.perExit[0].ece - (0.1 + 0.3 + 0.4 + 0.34) / 4) < 1e-6);
  assert.ok(Math.abs(expectedCalibrationError([0.95, 0.95], [true, false]) - 0.45) < 1e-12);
});

test('early exit on a trained model: threshold 1 is exit 4; a sweep equals eval at three thresholds', async () => {
  const { model, meta } = await loadModelDir(run);
  const staged = new TfjsClassifier(model, undefined, meta.network.arch);
  const dataset = loadDataset(dataRoot, { split: { salt: 'bee', validationPercent: 20, testPercent: 20 } });
  const table = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir: cache });
  const examples = splitExamples(table, meta.labels, 'test');
  const macs = modelCost(model).exits.map((e) => e.relativeMacs);
  const never = evaluateEarlyExit(staged, table, examples, meta.labels, { criterion: 'max-softmax', thresholds: [1, 1, 1] }, macs);
  assert.equal(never.meanExit, 4);
  assert.equal(never.relativeCompute, 1);
  assert.equal(never.accuracy, never.perExit[3].accuracyAll);
  assert.ok(never.latencyMs!.median > 0);

  const allProbs = staged.exitOutputs(table, examples.rows);
  const grid = sweep(allProbs, examples.labels, meta.labels, macs);
  for (const [criterion, threshold] of [
    ['max-softmax', 0.5],
    ['max-softmax', 0.85],
    ['entropy', 0.5],
  ] as const) {
    const ev = evaluateEarlyExit(staged, table, examples, meta.labels, { criterion, thresholds: [threshold, threshold, threshold] }, macs);
    const row = grid.rows.find((r) => r.criterion === criterion && r.threshold === threshold)!;
    assert.deepEqual(
      [row.accuracy, row.meanExit, row.relativeCompute, row.exitHistogram],
      [ev.accuracy, ev.meanExit, ev.relativeCompute, ev.exitHistogram],
      `${criterion} ${threshold}`,
    );
  }
  const early = evaluateEarlyExit(staged, table, examples, meta.labels, { criterion: 'max-softmax', thresholds: [0.5, 0.5, 0.5] }, macs);
  assert.ok(early.meanExit < 4 && early.relativeCompute < 1, `mean exit ${early.meanExit}`);
  // Only the blocks needed ran: an example that left at exit k carries k softmaxes.
  const one = staged.classify(featuresOf(table, examples.rows[0]), { criterion: 'max-softmax', thresholds: [0, 0, 0] });
  assert.equal(one.exit, 1);
  assert.equal(one.probs.length, 1);
  staged.dispose();
});

test('bee eval and bee sweep on the command line', () => {
  const ev = bee('eval', '--model', run, '--threshold', '0.85', '--json');
  assert.equal(ev.status, 0, ev.stderr);
  const r = JSON.parse(ev.stdout);
  for (const key of ['accuracy', 'meanExit', 'stdExit', 'exitHistogram', 'relativeCompute', 'latencyMs', 'perExit', 'perClass']) assert.ok(key in r, key);
  assert.equal(r.exitHistogram.length, 4);
  assert.ok('median' in r.latencyMs && 'p95' in r.latencyMs);
  assert.ok(r.perExit.every((e: { accuracyAll: number }) => e.accuracyAll >= 0));
  const out = path.join(tempDir(), 'sweep');
  const sw = bee('sweep', '--model', run, '--out', out, '--json');
  assert.equal(sw.status, 0, sw.stderr);
  const row = JSON.parse(sw.stdout).rows.find((x: { criterion: string; threshold: number }) => x.criterion === 'max-softmax' && x.threshold === 0.85);
  assert.deepEqual([row.accuracy, row.meanExit, row.relativeCompute], [r.accuracy, r.meanExit, r.relativeCompute]);
  assert.deepEqual(fs.readdirSync(out).sort(), ['sweep.csv', 'sweep.json', 'sweep.svg']);
  assert.match(fs.readFileSync(path.join(out, 'sweep.svg'), 'utf8'), /<svg[\s\S]*<polyline[\s\S]*exit 4/);
  assert.match(fs.readFileSync(path.join(out, 'sweep.csv'), 'utf8'), /^criterion,threshold,accuracy,mean_exit,relative_compute/);
  // The per-exit search's rule, applied by bee eval, gives what the search said.
  const perExit = JSON.parse(sw.stdout).cheapestPerExitWithin1Point;
  const ev3 = bee('eval', '--model', run, '--threshold', perExit.thresholds.join(','), '--json');
  assert.equal(ev3.status, 0, ev3.stderr);
  const r3 = JSON.parse(ev3.stdout);
  assert.deepEqual([r3.accuracy, r3.exitHistogram], [perExit.accuracy, perExit.exitHistogram]);
  assert.ok(Math.abs(r3.relativeCompute - perExit.relativeCompute) < 1e-12);
});

test('bad input to bee eval: one-line errors, non-zero exit codes', () => {
  const dir = tempDir();
  assertOneLineError(bee('eval', '--model', path.join(dir, 'missing')), /missing: no such file or model directory/);
  assertOneLineError(bee('eval', '--model', run, '--threshold', '1.5'), /threshold '1\.5' is not in \[0, 1\]/);
  assertOneLineError(bee('eval', '--model', run, '--threshold', '0.5', '--entropy', '0.2'), /--threshold or --entropy, not both/);
  const old = path.join(dir, 'old');
  fs.cpSync(path.join(run, 'best'), old, { recursive: true, dereference: true });
  const meta = JSON.parse(fs.readFileSync(path.join(old, 'bee.json'), 'utf8'));
  fs.writeFileSync(path.join(old, 'bee.json'), JSON.stringify({ ...meta, formatVersion: 99 }));
  assertOneLineError(bee('eval', '--model', old), /model format 99, this bee reads 1/);
});

test('bee predict: label, confidence, exit and time per file; long clips in windows; bad files reported', () => {
  assert.deepEqual(windowStarts(12000, 16000), [0]);
  assert.deepEqual(windowStarts(16000, 16000), [0]);
  assert.deepEqual(windowStarts(27307, 16000), [0, 8000, 11307]);
  const fixtures = path.join(import.meta.dirname, 'fixtures');
  const junk = path.join(tempDir(), 'junk.wav');
  fs.writeFileSync(junk, 'not audio');
  const r = bee('predict', path.join(fixtures, 'yes-16k.wav'), path.join(fixtures, 'stop-long.wav'), junk, '--model', run, '--json');
  assert.equal(r.status, 1, 'a bad file makes the exit code non-zero');
  const [yes, long, bad] = JSON.parse(r.stdout);
  assert.ok(['high', 'low', 'mid'].includes(yes.label));
  assert.ok(yes.confidence > 0 && yes.confidence <= 1);
  assert.ok(yes.exit >= 1 && yes.exit <= 4);
  assert.ok(yes.ms > 0);
  assert.equal(yes.windows, 1);
  assert.equal(long.windows, 3);
  assert.match(bad.error, /junk\.wav: not a WAV file/);
  assert.match(r.stderr, /^bee: .*junk\.wav: not a WAV file/m, 'the error on stderr too, with --json');
  assert.equal(
    r.stderr
      .trim()
      .split('\n')
      .filter((l) => l.startsWith('bee:')).length,
    1,
  );
});

test('one threshold per exit: the cheapest rule within tolerance, by hand', () => {
  // Three exits, MACs 0.2 / 0.6 / 1, the last exit right on all three clips (tolerance 0):
  // A is sure and right at exit 1; B is surer at exit 1 (0.71, wrong) than at exit 2 (0.55, right);
  // C is unsure and wrong until exit 3. One threshold must exceed 0.71 to keep B from exit 1, so B
  // runs to exit 3 (compute (0.2 + 1 + 1) / 3); exit 2 at 0.52 lets it leave there: (0.2 + 0.6 + 1) / 3.
  const exits = [
    [0.9, 0.1, 0.29, 0.71, 0.5, 0.5],
    [0.9, 0.1, 0.55, 0.45, 0.5, 0.5],
    [0.9, 0.1, 0.9, 0.1, 0.2, 0.8],
  ].map((p) => Float32Array.from(p));
  const labels = Int32Array.from([0, 0, 1]);
  const macs = [0.2, 0.6, 1];
  const best = cheapestPerExit(exits, labels, 2, macs, 0)!;
  assert.deepEqual(best.thresholds, [0.72, 0.52], 'the first grid values that work, exit 1 first');
  assert.deepEqual(best.exitHistogram, [1, 1, 1]);
  assert.equal(best.accuracy, 1);
  assert.ok(Math.abs(best.relativeCompute - 0.6) < 1e-12 && best.meanExit === 2);
  const single = cheapestWithin(sweep(exits, labels, ['a', 'b'], macs), 'max-softmax', 0)!;
  assert.ok(Math.abs(single.relativeCompute - 2.2 / 3) < 1e-9, `one threshold: ${single.relativeCompute}`);
});

test('one threshold per exit: the rule found is the rule applied, and never dearer than one threshold', () => {
  const rng = mulberry32(4);
  const [n, classes] = [300, 5];
  const labels = Int32Array.from({ length: n }, () => Math.floor(rng() * classes));
  // Later exits see more of the label: exit k's logit for the true class gains k.
  const exits = [1, 2, 3, 4].map((k) => {
    const p = new Float32Array(n * classes);
    for (let i = 0; i < n; i++) {
      const z = Array.from({ length: classes }, (_, c) => 2 * rng() + (c === labels[i] ? k * rng() : 0));
      const sum = z.reduce((a, v) => a + Math.exp(v), 0);
      z.forEach((v, c) => (p[i * classes + c] = Math.exp(v) / sum));
    }
    return p;
  });
  const macs = [0.13, 0.42, 0.71, 1];
  const best = cheapestPerExit(exits, labels, classes, macs)!;
  const applied = buildReport(
    outcomesFromProbabilities(exits, labels, classes, { criterion: 'max-softmax', thresholds: best.thresholds }),
    exits,
    ['a', 'b', 'c', 'd', 'e'],
    macs,
  );
  assert.deepEqual([applied.accuracy, applied.meanExit, applied.exitHistogram], [best.accuracy, best.meanExit, best.exitHistogram]);
  assert.ok(Math.abs(applied.relativeCompute - best.relativeCompute) < 1e-12);
  assert.ok(best.accuracy >= applied.perExit[3].accuracyAll - 0.01 - 1e-12);
  // Every single threshold on the per-exit grid is one of the rules searched.
  const onGrid = sweep(exits, labels, ['a', 'b', 'c', 'd', 'e'], macs);
  onGrid.rows = onGrid.rows.filter((r) => Number.isInteger(Math.round(r.threshold * 1e6) / 2e4));
  const single = cheapestWithin(onGrid, 'max-softmax')!;
  assert.ok(best.relativeCompute <= single.relativeCompute + 1e-12, `${best.relativeCompute} > ${single.relativeCompute}`);
  assert.ok(best.relativeCompute < 1, 'the test data must leave room to exit early');
});

test('temperature scaling recovers the temperature of overconfident logits', () => {
  const rng = mulberry32(9);
  const classes = 5;
  const n = 4000;
  const logits = new Float32Array(n * classes);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const z = Array.from({ length: classes }, () => 2 * (rng() - 0.5) * 2);
    const p = z.map(Math.exp);
    const sum = p.reduce((a, b) => a + b);
    let u = rng() * sum;
    labels[i] = p.findIndex((v) => (u -= v) <= 0);
    z.forEach((v, c) => (logits[i * classes + c] = 3 * v)); // reported 3x too sharp
  }
  const t = fitTemperature(logits, labels, classes);
  assert.ok(Math.abs(t - 3) < 0.25, `fitted ${t}`);
});

test('bee sweep --calibrate saves a temperature per exit, which bee eval then uses', () => {
  const copy = path.join(tempDir(), 'run');
  fs.cpSync(run, copy, { recursive: true });
  const r = bee('sweep', '--model', copy, '--calibrate', '--out', path.join(copy, 'sweep'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const { calibration, temperatures } = JSON.parse(r.stdout);
  assert.equal(calibration.temperatures.length, 4);
  assert.deepEqual(temperatures, calibration.temperatures);
  assert.ok(calibration.before.length > 0);
  const meta = JSON.parse(fs.readFileSync(path.join(copy, 'best', 'bee.json'), 'utf8'));
  assert.deepEqual(meta.calibration.temperatures, calibration.temperatures);
  const ev = JSON.parse(bee('eval', '--model', copy, '--threshold', '0.85', '--json').stdout);
  assert.deepEqual(ev.temperatures, calibration.temperatures);
  // eval applies the temperatures: its decisions are the calibrated sweep's, not the uncalibrated ones.
  const calibrated = JSON.parse(r.stdout).rows.find((x: { criterion: string; threshold: number }) => x.criterion === 'max-softmax' && x.threshold === 0.85);
  assert.deepEqual([ev.accuracy, ev.meanExit, ev.exitHistogram], [calibrated.accuracy, calibrated.meanExit, calibrated.exitHistogram]);
  assert.ok(
    calibration.temperatures.some((t: number) => Math.abs(t - 1) > 0.05),
    'the fitted temperatures change something',
  );
  const broken = path.join(copy, 'best', 'bee.json');
  fs.writeFileSync(broken, JSON.stringify({ ...meta, calibration: { ...meta.calibration, temperatures: [1, 2, 3] } }));
  const bad = bee('eval', '--model', copy);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /bad bee\.json: calibration\.temperatures must be one number in \[0\.001, 1000\] per exit/);
});

test('the cheapest threshold within 1 point of the full network', () => {
  const row = (threshold: number, accuracy: number, relativeCompute: number) => ({
    criterion: 'max-softmax' as const,
    threshold,
    accuracy,
    meanExit: 1 + 3 * relativeCompute,
    relativeCompute,
    exitHistogram: [0, 0, 0, 0],
  });
  const result = {
    rows: [row(0.5, 0.7, 0.3), row(0.8, 0.795, 0.5), row(0.9, 0.81, 0.7), row(1, 0.8, 1)],
    exits: [1, 2, 3, 4].map((exit) => ({ exit, accuracy: exit === 4 ? 0.8 : 0.5, relativeCompute: exit / 4 })),
  };
  assert.equal(cheapestWithin(result, 'max-softmax')?.threshold, 0.8, '79.5% is within 1 point of 80%, 70% is not');
  assert.equal(cheapestWithin(result, 'max-softmax', 0.2)?.threshold, 0.5);
  assert.equal(cheapestWithin(result, 'entropy'), null);
});
