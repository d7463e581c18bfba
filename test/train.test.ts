import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../src/backend/backend.ts';
import { loadDataset, loadRecordedDataset, type Dataset } from '../src/data/dataset.ts';
import { loadFeatures, type FeatureTable } from '../src/data/feature-cache.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { loadModelDir } from '../src/model/saved-model.ts';
import { type AugmentOptions, applyAugmentation, applyMasks, DEFAULT_AUGMENT, DEFAULT_SPEC_AUGMENT, drawAugmentation } from '../src/data/augment.ts';
import { gainForSnr } from '../src/audio/level.ts';
import { rngFor } from '../src/util/rng.ts';
import type { RunInput } from '../src/train/run-options.ts';
import { train } from '../src/train/trainer.ts';
import { resumePoint } from '../src/train/checkpoint.ts';
import { AugmentFeeder } from '../src/train/augment-feeder.ts';
import { ClipFeaturizer } from '../src/features/featurize.ts';
import { writeWav } from './helpers/wav.ts';
import { readWav } from '../src/audio/wav.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset } from './helpers/tones.ts';
import { BeeError } from '../src/errors.ts';
import { BEE } from './helpers/cli.ts';
import { TONE_OPTIONS, toneRun, toneRunFlags } from './helpers/tone-run.ts';

interface Data {
  root: string;
  dataset: Dataset;
  table: FeatureTable;
}
const CLIP = { sampleRate: 16000, clipSamples: 16000, frames: 98, melBins: 64 };
let small: Data; // 72 clips: fast runs
let larger: Data; // 288 clips: enough steps for the BatchNorm statistics to settle
const options: RunInput = {
  epochs: 4,
  batchSize: 16,
  learningRate: 3e-3,
  exitWeights: [1, 1, 1, 1],
  seed: 7,
  precision: 'binary',
  width: 0.125,
  augment: false,
};

async function toneData(speakers: number, perSpeaker: number): Promise<Data> {
  const root = tempDir('bee-tones-');
  makeToneDataset(root, undefined, speakers, perSpeaker);
  const dataset = loadDataset(root, { split: { salt: 'bee', validationPercent: 20, testPercent: 20 } });
  return { root, dataset, table: await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir: tempDir('bee-cache-') }) };
}

before(async () => {
  await initBackend();
  small = await toneData(12, 2);
  larger = await toneData(24, 4);
});

test('training learns, writes checkpoints and metrics, and the saved model loads', async () => {
  const { dataset, table } = larger;
  const out = path.join(tempDir(), 'run');
  const epochs: number[] = [];
  const result = await train({
    dataset,
    table,
    out,
    options: { ...options, epochs: 8, batchSize: 8, width: 0.25 },
    callbacks: { onEpochEnd: (r) => epochs.push(r.epoch) },
  });
  assert.deepEqual(epochs, [1, 2, 3, 4, 5, 6, 7, 8]);
  const lines = fs
    .readFileSync(path.join(out, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  assert.equal(lines.length, 8);
  const last = lines[7];
  assert.equal(last.validation.accuracy.length, 4);
  assert.ok(last.train.loss < lines[0].train.loss, `loss falls: ${lines[0].train.loss} -> ${last.train.loss}`);
  assert.ok(last.train.accuracy[3] > 0.7, `exit 4 learns the three tones: ${last.train.accuracy}`);
  assert.ok(result.best!.metric > 0.4, `exit 4 validation accuracy above chance (1/3): ${result.best!.metric}`);
  assert.ok(last.examplesPerSecond > 0);
  assert.equal(fs.readlinkSync(path.join(out, 'last')), path.join('checkpoints', 'epoch-0008'));
  assert.equal(fs.readlinkSync(path.join(out, 'best')), path.join('checkpoints', `epoch-${String(result.best!.epoch).padStart(4, '0')}`));
  const { meta } = await loadModelDir(out);
  assert.deepEqual(meta.labels, ['high', 'low', 'mid']);
  assert.equal(meta.network.precision, 'binary');
  assert.deepEqual(meta.network.filters, [8, 24, 48, 96]); // the default (reactnet) stages, 32 / 96 / 192 / 384, at width 0.25
  await assert.rejects(train({ dataset, table, out, options }), /already holds a training run/);
});

test('resume is exact: 4 epochs stopped after 2 and resumed equal 4 epochs straight', async () => {
  const { dataset, table } = small;
  const straight = await train({ dataset, table, out: path.join(tempDir(), 'a'), options });
  const outB = path.join(tempDir(), 'b');
  // Stopped as Ctrl-C stops it (the learning-rate schedule spans the run's 4 epochs either way).
  let done = 0;
  const stopped = await train({ dataset, table, out: outB, options, callbacks: { onEpochEnd: () => done++, shouldStop: () => done === 2 } });
  assert.equal(stopped.stopped, true);
  assert.equal(stopped.history.length, 2);
  // what --resume reads back: the run's own epochs and its data, split as it was
  const point = resumePoint(outB);
  assert.equal(point.epochs, 4);
  assert.equal(point.data?.root, dataset.root);
  assert.deepEqual(loadRecordedDataset(point.data!).clips, dataset.clips);
  assert.throws(() => resumePoint(path.join(tempDir(), 'none')), /no checkpoint to resume from/);
  const resumed = await train({ dataset, table, out: outB, options: { ...options, epochs: 4 }, resume: true });
  assert.equal(resumed.history.length, 4);
  const otherSplit = loadDataset(small.root, { split: { salt: 'other', validationPercent: 20, testPercent: 20 } });
  await assert.rejects(
    train({ dataset: otherSplit, table, out: outB, options: { ...options, epochs: 5 }, resume: true }),
    /trained on other data, classes or splits/,
  );
  for (let e = 0; e < 4; e++) {
    const a = straight.history[e];
    const b = resumed.history[e];
    // Measured on the native backend: identical to the last bit (no nondeterministic kernels here).
    assert.deepEqual(b.train, a.train, `epoch ${e + 1} training metrics`);
    assert.deepEqual(b.validation, a.validation, `epoch ${e + 1} validation metrics`);
  }
});

test("the best checkpoint is chosen by the mean of every exit's validation accuracy", async () => {
  const { dataset, table } = small;
  const result = await train({ dataset, table, out: path.join(tempDir(), 'sel'), options: { ...options, epochs: 3 } });
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;
  const scores = result.history.map((r) => mean(r.validation!.accuracy));
  assert.equal(result.best!.metric, Math.max(...scores));
  assert.equal(result.best!.epoch, scores.indexOf(Math.max(...scores)) + 1);
});

test('distillation: a teacher model of the same classes teaches every exit; one of other classes is refused', async () => {
  const { dataset, table } = small;
  const teacherDir = path.join(tempDir(), 'teacher');
  await train({ dataset, table, out: teacherDir, options: { ...options, epochs: 2, precision: 'float' } });
  const taught = await train({ dataset, table, out: path.join(tempDir(), 'taught'), options: { ...options, epochs: 1, distill: 1, teacher: teacherDir } });
  const plain = await train({ dataset, table, out: path.join(tempDir(), 'plain'), options: { ...options, epochs: 1, distill: 0 } });
  // The same seed, data order and cross-entropies at the first step: the loss differs by the distillation terms alone.
  assert.ok(taught.history[0].train.loss > plain.history[0].train.loss, `${taught.history[0].train.loss} vs ${plain.history[0].train.loss}`);
  const root = tempDir('bee-tones-');
  makeToneDataset(root, ['high', 'low'], 12, 2);
  const two = loadDataset(root, { split: { salt: 'bee', validationPercent: 20, testPercent: 20 } });
  const twoTable = await loadFeatures(two, { params: PAPER_FEATURES, cacheDir: tempDir('bee-cache-') });
  await assert.rejects(
    train({ dataset: two, table: twoTable, out: path.join(tempDir(), 'bad'), options: { ...options, distill: 1, teacher: teacherDir } }),
    /the teacher has other classes than this dataset/,
  );
  await assert.rejects(
    train({ dataset, table, out: path.join(tempDir(), 'off'), options: { ...options, teacher: teacherDir } }),
    /a teacher teaches through the distillation term, which is off/,
  );
  await assert.rejects(
    train({ dataset, table, out: path.join(tempDir(), 'weights'), options: { ...options, classWeights: { nope: 2 } } }),
    /class weights for nope: the dataset has no such class/,
  );
  await assert.rejects(
    train({ dataset, table, out: path.join(tempDir(), 'weights'), options: { ...options, classWeights: { [dataset.classes[0]]: -1 } } }),
    /class weight of .* must be a finite number > 0/,
  );
});

test('augmentation: draws are seeded; shifts move samples, noise adds scaled noise', () => {
  const draw = (seed: number) => {
    const rng = rngFor(seed, 1, 2);
    return Array.from({ length: 20 }, () => drawAugmentation(rng, DEFAULT_AUGMENT, CLIP, [48000, 1000]));
  };
  assert.deepEqual(draw(3), draw(3));
  assert.notDeepEqual(draw(3), draw(4));
  const augs = draw(5);
  assert.ok(augs.every((a) => Math.abs(a.shift) <= 1600));
  assert.ok(
    augs.every((a) => !a.noise || (a.noise.index === 0 && a.noise.offset <= 32000 && 'gain' in a.noise && a.noise.gain <= 0.1)),
    'noise only from recordings long enough',
  );
  const clip = Float32Array.from({ length: 10 }, (_, i) => i + 1);
  assert.deepEqual(Array.from(applyAugmentation(clip, { shift: 3 }, [], 16000)), [0, 0, 0, 1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(Array.from(applyAugmentation(clip, { shift: -2 }, [], 16000)), [3, 4, 5, 6, 7, 8, 9, 10, 0, 0]);
  const noise = new Float32Array(20).fill(2);
  assert.deepEqual(
    Array.from(applyAugmentation(clip, { shift: 0, noise: { index: 0, offset: 5, gain: 0.5 } }, [noise], 16000)),
    Array.from(clip, (v) => v + 1),
  );
});

test('speed perturbation: factors in steps of 1/40 within the spread, drawn after the rest; a clip played 1.1x as fast keeps its length, its pitch 1.1x', () => {
  const options: AugmentOptions = { ...DEFAULT_AUGMENT, speedSpread: 0.1 };
  const draw = (o: AugmentOptions) => {
    const rng = rngFor(7, 1, 2);
    return Array.from({ length: 200 }, () => drawAugmentation(rng, o, CLIP, [48000]));
  };
  const sped = draw(options);
  const speeds = new Set(sped.map((a) => a.speed ?? 1));
  assert.deepEqual([...speeds].sort(), [0.9, 0.925, 0.95, 0.975, 1, 1.025, 1.05, 1.075, 1.1], 'every step drawn, none outside');
  assert.deepEqual(
    draw(DEFAULT_AUGMENT)
      .slice(0, 1)
      .map((a) => a.shift),
    sped.slice(0, 1).map((a) => a.shift),
    'the first clip shifts as without speeds',
  );
  const rate = 16000;
  const tone = Float32Array.from({ length: rate }, (_, i) => Math.sin((2 * Math.PI * 500 * i) / rate));
  const crossings = (x: Float32Array) => x.slice(2000, 14000).reduce((n, v, i, a) => n + (i > 0 && a[i - 1] < 0 !== v < 0 ? 1 : 0), 0);
  const played = applyAugmentation(tone, { shift: 0, speed: 1.1 }, [], rate);
  assert.equal(played.length, rate);
  assert.ok(Math.abs(crossings(played) / crossings(tone) - 1.1) < 0.01, `${crossings(played)} crossings against ${crossings(tone)}`);
});

test('augmentation at an SNR: the noise lands that many dB under the clip', () => {
  const clip = Float32Array.from({ length: 1000 }, (_, i) => 0.5 * Math.sin(i / 3));
  const noise = Float32Array.from({ length: 2000 }, (_, i) => ((i * 7919) % 13) / 13 - 0.5);
  for (const snrDb of [-5, 0, 10, 20]) {
    const mixed = applyAugmentation(clip, { shift: 0, noise: { index: 0, offset: 100, snrDb } }, [noise], 16000);
    const added = mixed.map((v, i) => v - clip[i]);
    const db = 10 * Math.log10(clip.reduce((a, v) => a + v * v, 0) / added.reduce((a, v) => a + v * v, 0));
    assert.ok(Math.abs(db - snrDb) < 1e-3, `${snrDb} dB asked, ${db} measured`);
  }
  assert.equal(gainForSnr(new Float32Array(10), noise, 0), 0, 'a silent clip gets no noise');
  const rng = rngFor(1, 1, 2);
  const augs = Array.from({ length: 200 }, () => drawAugmentation(rng, { ...DEFAULT_AUGMENT, snrDb: [-5, 20] }, CLIP, [48000]));
  const snrs = augs.flatMap((a) => (a.noise && 'snrDb' in a.noise ? [a.noise.snrDb] : []));
  assert.ok(snrs.length > 120 && snrs.every((d) => d >= -5 && d <= 20), 'SNRs drawn in the range, for the noisy share');
});

test('cut words: only clips that may be cut, shifted 0.5-0.8 s, and the rest of the draw unchanged', () => {
  const options: AugmentOptions = { ...DEFAULT_AUGMENT, cutWords: 0.5 };
  const draws = (cuttable: boolean, o = options) => {
    const rng = rngFor(2, 1, 2);
    return Array.from({ length: 200 }, () => drawAugmentation(rng, o, CLIP, [48000], cuttable));
  };
  assert.ok(
    draws(false).every((a) => !a.cut && Math.abs(a.shift) <= 1600),
    'silence and _unknown_ are never cut',
  );
  const cut = draws(true).filter((a) => a.cut);
  assert.ok(cut.length > 70 && cut.length < 130, `about half cut, got ${cut.length}`);
  assert.ok(cut.every((a) => Math.abs(a.shift) >= 0.5 * 16000 && Math.abs(a.shift) <= 0.8 * 16000));
  assert.ok(cut.some((a) => a.shift < 0) && cut.some((a) => a.shift > 0), 'both ways');
  // the noise is drawn before the cut, so a run's first clip gets the noise it got without cuts
  assert.deepEqual(draws(true)[0].noise, draws(true, DEFAULT_AUGMENT)[0].noise);
});

test('the augmentation worker featurizes exactly the augmented clips, in order', async () => {
  const noiseDir = tempDir('bee-noise-');
  const noiseFile = path.join(noiseDir, 'hum.wav');
  writeWav(noiseFile, { sampleRate: 16000, bits: 16, channels: [Float32Array.from({ length: 40000 }, (_, i) => 0.2 * Math.sin(i / 7))] });
  fs.writeFileSync(path.join(noiseDir, 'broken.wav'), 'RIFF');
  const { dataset, table } = small;
  const rows = [4, 0, 9];
  const withMasks = { ...DEFAULT_AUGMENT, specAugment: DEFAULT_SPEC_AUGMENT };
  const feeder = await AugmentFeeder.start(table, rows, [noiseFile], withMasks);
  try {
    feeder.beginEpoch([[2, 0], [1]], rngFor(3, 1, 2));
    const [first, second] = [await feeder.next(), await feeder.next()];
    const rng = rngFor(3, 1, 2);
    const featurizer = new ClipFeaturizer(PAPER_FEATURES);
    const noise = readWav(noiseFile).samples;
    const expected = [2, 0, 1].map((i) => {
      const aug = drawAugmentation(rng, withMasks, CLIP, [40000]);
      assert.ok(aug.masks, 'SpecAugment masks are drawn');
      const features = featurizer.features(applyAugmentation(featurizer.samples(table.clips[rows[i]]), aug, [noise], PAPER_FEATURES.sampleRate));
      applyMasks(features, aug.masks, 64);
      return features;
    });
    const size = 98 * 64;
    assert.deepEqual(first.features, Float32Array.from([...expected[0], ...expected[1]]));
    assert.deepEqual(second.features.subarray(0, size), expected[2]);
    assert.deepEqual([...first.cut, ...second.cut], [false, false, false]);
  } finally {
    await feeder.stop();
  }
  const statuses: string[] = [];
  const result = await train({
    dataset,
    table,
    out: path.join(tempDir(), 'aug'),
    options: { ...options, epochs: 1, augment: DEFAULT_AUGMENT, noiseFiles: [noiseFile, path.join(noiseDir, 'broken.wav')] },
    callbacks: { onStatus: (m) => statuses.push(m) },
  });
  assert.equal(result.history.length, 1);
  assert.ok(
    statuses.some((m) => /skipping background noise .*broken\.wav/.test(m)),
    statuses.join('\n'),
  );
  assert.ok(Number.isFinite(result.history[0].train.loss));
});

test('SIGKILL in the middle of saving leaves the previous checkpoint loadable, and resume continues', async () => {
  const out = path.join(tempDir(), 'killed');
  const bee = path.join(import.meta.dirname, '..', 'bin', 'bee.js');
  const common = ['--width', '0.125', '--batch-size', '16', '--out', out];
  const data = ['--data', small.root, '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20', '--no-augment'];
  const env = { ...process.env, BEE_CACHE_DIR: tempDir('bee-cache-') };
  // BEE_LAUNCHED: the CLI runs in this very process (no launcher child), so the kill hits the trainer.
  const child = spawn(process.execPath, [bee, 'train', ...data, ...common, '--epochs', '3'], {
    env: { ...env, BEE_LAUNCHED: '1', BEE_DEBUG_SAVE_PAUSE: '2:60000' },
    stdio: 'ignore',
  });
  const exited = new Promise((r) => child.on('exit', r));
  // Epoch 2's checkpoint directory is complete on disk, `last` still points at epoch 1: kill there.
  const deadline = Date.now() + 120_000;
  while (!fs.existsSync(path.join(out, 'checkpoints', 'epoch-0002', 'model.json')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  child.kill('SIGKILL');
  await exited;
  assert.equal(fs.readlinkSync(path.join(out, 'last')), path.join('checkpoints', 'epoch-0001'));
  const { meta } = await loadModelDir(path.join(out, 'last'));
  assert.equal((meta.training as { epochs: number }).epochs, 1);

  const resumed = spawnSync(process.execPath, [bee, 'train', ...common, '--resume', '--epochs', '3', '--json'], { env, encoding: 'utf8' });
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.equal(JSON.parse(resumed.stdout).epochs, 3);
  assert.equal(fs.readlinkSync(path.join(out, 'last')), path.join('checkpoints', 'epoch-0003'));
  assert.deepEqual(
    fs.readdirSync(path.join(out, 'checkpoints')).filter((d) => !['epoch-0003', path.basename(fs.readlinkSync(path.join(out, 'best')))].includes(d)),
    [],
    'leftovers are pruned',
  );
});

test('Ctrl-C stops after the current step, keeps the last complete epoch, and says how to resume', async () => {
  const out = path.join(tempDir(), 'interrupted');
  const bee = path.join(import.meta.dirname, '..', 'bin', 'bee.js');
  const args = [
    bee,
    'train',
    '--data',
    small.root,
    '--split-salt',
    'bee',
    '--validation-percent',
    '20',
    '--test-percent',
    '20',
    '--no-augment',
    '--width',
    '0.125',
    '--batch-size',
    '4',
    '--epochs',
    '50',
    '--out',
    out,
  ];
  // Its own process group, as a terminal's foreground job: Ctrl-C reaches the launcher and the CLI.
  const child = spawn(process.execPath, args, {
    env: { ...process.env, BEE_CACHE_DIR: tempDir('bee-cache-') },
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const deadline = Date.now() + 120_000;
  while (!fs.existsSync(path.join(out, 'last')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  process.kill(-child.pid!, 'SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /stopping after this step/);
  assert.match(stderr, /interrupted; continue with: bee train --out .* --resume/);
  const epochs = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n').length;
  assert.ok(epochs >= 1 && epochs < 50);
  await loadModelDir(path.join(out, 'last'));
});

test('bee train --filters sets the stages, --exit-hidden puts a BatchNorm before the hidden layer, and the packed engine runs it', async () => {
  const out = path.join(tempDir(), 'shaped');
  const bee = path.join(import.meta.dirname, '..', 'bin', 'bee.js');
  const env = { ...process.env, BEE_CACHE_DIR: tempDir('bee-cache-') };
  const data = ['--data', small.root, '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20', '--no-augment'];
  const run = (...args: string[]) => spawnSync(process.execPath, [bee, ...args], { env, encoding: 'utf8' });
  const trained = run('train', ...data, '--filters', '8,8,16,16', '--exit-hidden', '4', '--epochs', '1', '--batch-size', '16', '--out', out);
  assert.equal(trained.status, 0, trained.stderr);
  const { model, meta } = await loadModelDir(path.join(out, 'best'));
  assert.deepEqual(meta.network.filters, [8, 8, 16, 16]);
  assert.deepEqual(meta.network.exitHead, { type: 'pooled', grid: [4, 2], hidden: 4, norm: true });
  assert.ok(model.getLayer('exit4_hidden_bn'));
  model.dispose();
  // The BatchNorm folded into the hidden layer: the packed engine exits where tfjs does, as accurately.
  const tfjs = JSON.parse(run('eval', '--model', out, '--split', 'test', '--engine', 'tfjs', '--json').stdout);
  const packed = JSON.parse(run('eval', '--model', out, '--split', 'test', '--engine', 'packed', '--json').stdout);
  const answers = (r: { exitHistogram: number[]; perExit: { accuracyAll: number }[] }) => ({
    exits: r.exitHistogram,
    accuracy: r.perExit.map((e) => e.accuracyAll),
  });
  assert.ok(tfjs.samples > 0);
  assert.deepEqual(answers(packed), answers(tfjs));
});

// Regression tests from the hostile-input pass (issue 11), on a tiny trained run (helpers/tone-run.ts).
const cache = tempDir('bee-cache-');
let dataset: Dataset;
let table: FeatureTable;
let run: string; // a trained run directory, TONE_OPTIONS
/** bee train's flags for a tiny run on the tone dataset. */
let TONE_RUN: string[];
before(async () => {
  const tones = await toneRun(cache);
  ({ dataset, table, run } = tones);
  TONE_RUN = toneRunFlags(tones.root);
});

test('a loss that becomes NaN stops training with an error; the last finite epoch stays the checkpoint', async () => {
  const poisoned = { ...table, features: Float32Array.from(table.features) };
  poisoned.features.fill(NaN, 0, poisoned.frames * poisoned.melBins * poisoned.clips.length);
  await assert.rejects(train({ dataset, table: poisoned, out: run, resume: true, options: { ...TONE_OPTIONS, epochs: 2 } }), (err: unknown) => {
    assert.ok(err instanceof BeeError);
    assert.match(err.oneLine(), /training stopped: the loss became NaN at epoch 2, step 1 \(epoch 1's checkpoint is kept \(last\)/);
    return true;
  });
  assert.equal(fs.readlinkSync(path.join(run, 'last')), path.join('checkpoints', 'epoch-0001'));
  const { model } = await loadModelDir(path.join(run, 'last'));
  model.dispose();
  assert.ok(!fs.existsSync(path.join(run, '.lock')), 'the lock is released after a failure');
});

test('two bee train runs on one --out: one trains, the other is refused, the run stays whole', async () => {
  const out = path.join(tempDir(), 'run');
  const args = [BEE, 'train', ...TONE_RUN, '--epochs', '2', '--no-augment', '--out', out];
  const runOne = () =>
    new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, args, { env: { ...process.env, BEE_CACHE_DIR: cache } });
      let stderr = '';
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code) => resolve({ code, stderr }));
    });
  const results = await Promise.all([runOne(), runOne()]);
  const ok = results.filter((r) => r.code === 0);
  const refused = results.filter((r) => r.code !== 0);
  assert.equal(ok.length, 1, results.map((r) => r.stderr).join('\n---\n'));
  assert.equal(refused.length, 1);
  assert.match(refused[0].stderr, /is in use by another bee process \(PID \d+\)|already holds a training run/);
  const lines = fs.readFileSync(path.join(out, 'metrics.jsonl'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  assert.ok(!fs.existsSync(path.join(out, '.lock')));
});
