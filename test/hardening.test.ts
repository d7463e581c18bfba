// Regression tests for the hostile-input pass: each case once slipped through (issue 11).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../src/backend/backend.ts';
import { loadDataset, type Dataset } from '../src/data/dataset.ts';
import { loadFeatures, type FeatureTable } from '../src/data/feature-cache.ts';
import { summarizeDataset } from '../src/data/summary.ts';
import { BeeError } from '../src/errors.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { loadModelDir } from '../src/model/saved-model.ts';
import type { RunInput } from '../src/train/run-options.ts';
import { train } from '../src/train/trainer.ts';
import { writeFileAtomic } from '../src/util/atomic.ts';
import { makeDir } from '../src/util/make-dir.ts';
import { lockDirectory } from '../src/util/run-lock.ts';
import { readWav } from '../src/audio/wav.ts';
import { assertOneLineError, BEE, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset } from './helpers/tones.ts';
import { encodeWav, sine } from './helpers/wav.ts';

const cache = tempDir('bee-cache-');
const bee = beeWithCache(cache);
const options: RunInput = {
  epochs: 1,
  batchSize: 16,
  learningRate: 3e-3,
  exitWeights: [1, 1, 1, 1],
  seed: 3,
  precision: 'binary',
  width: 0.125,
  augment: false,
};
let root: string;
let dataset: Dataset;
let table: FeatureTable;
let run: string; // a trained run directory
/** bee train's flags for a tiny run on the tone dataset (`--data` is set in before()). */
const TONE_RUN: string[] = [];

/** The PID of a process that has exited: no process holds it now. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number.parseInt(child.stdout.trim(), 10);
}

before(async () => {
  await initBackend();
  root = tempDir('bee-tones-');
  makeToneDataset(root, undefined, 12, 2);
  TONE_RUN.push('--data', root, '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20', '--width', '0.125');
  dataset = loadDataset(root, { split: { salt: 'bee', validationPercent: 20, testPercent: 20 } });
  table = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir: cache });
  run = path.join(tempDir(), 'run');
  await train({ dataset, table, out: run, options });
});

test('flags: infinite, empty, hexadecimal numbers are refused, each naming its own flag', () => {
  assertOneLineError(bee('train', '--data', root, '--lr', '1e309'), /--lr <rate>' argument '1e309' is invalid\. expected a finite number > 0/);
  assertOneLineError(bee('train', '--data', root, '--exit-weights', '1e309,1,1,1'), /--exit-weights.*expected one finite number >= 0 per exit/);
  assertOneLineError(bee('train', '--data', root, '--exit-weights', ',,,'), /--exit-weights.*expected one finite number >= 0 per exit/);
  assertOneLineError(bee('train', '--data', root, '--epochs', '0x10'), /--epochs <n>' argument '0x10' is invalid/);
  assertOneLineError(bee('train', '--data', root, '--validation-percent', ''), /--validation-percent/);
  assertOneLineError(bee('eval', '--model', run, '--entropy', '2'), /--entropy '2' is not in \[0, 1\] \(e\.g\. --entropy 0\.3/);
  assertOneLineError(bee('eval', '--model', run, '--threshold', '0x1'), /--threshold '0x1' is not in \[0, 1\]/);
});

test('a loss that becomes NaN stops training with an error; the last finite epoch stays the checkpoint', async () => {
  const poisoned = { ...table, features: Float32Array.from(table.features) };
  poisoned.features.fill(NaN, 0, poisoned.frames * poisoned.melBins * poisoned.clips.length);
  await assert.rejects(train({ dataset, table: poisoned, out: run, resume: true, options: { ...options, epochs: 2 } }), (err: unknown) => {
    assert.ok(err instanceof BeeError);
    assert.match(err.oneLine(), /training stopped: the loss became NaN at epoch 2, step 1 \(epoch 1's checkpoint is kept \(last\)/);
    return true;
  });
  assert.equal(fs.readlinkSync(path.join(run, 'last')), path.join('checkpoints', 'epoch-0001'));
  const { model } = await loadModelDir(path.join(run, 'last'));
  model.dispose();
  assert.ok(!fs.existsSync(path.join(run, '.lock')), 'the lock is released after a failure');
});

test('run directory lock: one holder; a live PID refuses, a dead one is cleared', () => {
  const dir = tempDir();
  const release = lockDirectory(dir);
  assert.throws(() => lockDirectory(dir), /in use by this process already/);
  release();
  const sleeper = spawn('sleep', ['30']);
  try {
    fs.writeFileSync(path.join(dir, '.lock'), `${sleeper.pid}\n`);
    assert.throws(() => lockDirectory(dir), new RegExp(`is in use by another bee process \\(PID ${sleeper.pid}\\)`));
  } finally {
    sleeper.kill();
  }
  fs.writeFileSync(path.join(dir, '.lock'), `${deadPid()}\n`);
  lockDirectory(dir)();
  assert.ok(!fs.existsSync(path.join(dir, '.lock')));
  fs.writeFileSync(path.join(dir, '.lock'), '');
  lockDirectory(dir)(); // a lock holding no PID has no owner to wait for
  fs.mkdirSync(path.join(dir, '.lock'));
  assert.throws(() => lockDirectory(dir), /\.lock: cannot read the lock: EISDIR/);
  assert.deepEqual(fs.readdirSync(dir), ['.lock'], 'no temporary files left behind');
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

test('directories bee cannot create give one line, never a spin (/proc/x)', { skip: !fs.existsSync('/proc/self') && 'no /proc here' }, () => {
  assert.throws(() => makeDir('/proc/bee-x/y', 'output directory'), /\/proc\/bee-x\/y: cannot create the output directory: ENOENT/);
  const file = path.join(tempDir(), 'a-file');
  fs.writeFileSync(file, 'x');
  assert.throws(() => makeDir(path.join(file, 'sub')), /a-file\/sub: cannot create the directory: ENOTDIR \(a part of the path is not a directory\)/);
  const args = [...TONE_RUN, '--epochs', '1', '--no-augment'];
  const timed = (...a: string[]) =>
    spawnSync(process.execPath, [BEE, ...a], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, BEE_CACHE_DIR: cache } });
  assertOneLineError(timed('train', ...args, '--out', '/proc/bee-x'), /\/proc\/bee-x: cannot create the output directory: ENOENT/);
  // The cache only saves time: a cache that cannot be made is a notice, and the work goes on.
  const cached = timed('train', ...args, '--cache', '/proc/bee-x', '--out', path.join(tempDir(), 'r'));
  assert.equal(cached.status, 0, cached.stderr);
  assert.match(cached.stderr, /feature cache not saved \(cannot create the feature cache: ENOENT/);
  const dangling = path.join(tempDir(), 'dangling');
  fs.symlinkSync(path.join(tempDir(), 'nowhere'), dangling);
  assert.throws(() => makeDir(dangling), /dangling: cannot create the directory: .*dangling is a symlink to nothing/);
});

test('bee export never writes over the model it reads, nor over a file that is not a .bee without --force', () => {
  const weights = path.join(run, 'best', 'weights.bin');
  const before = fs.readFileSync(weights);
  assertOneLineError(bee('export', '--model', run, '--out', weights), /weights\.bin: is part of the model being exported/);
  assertOneLineError(bee('export', '--model', run, '--out', weights, '--force'), /is part of the model being exported/);
  assertOneLineError(bee('export', '--model', run, '--out', path.join(run, 'best')), /is part of the model being exported/);
  assertOneLineError(bee('export', '--model', run, '--out', path.join(run, 'last', 'weights.bin'), '--force'), /is part of the model being exported/);
  assertOneLineError(bee('export', '--model', run, '--out', path.join(weights, 'x.bee')), /x\.bee: cannot write: ENOTDIR/);
  assert.deepEqual(fs.readFileSync(weights), before);
  const dir = tempDir();
  const notes = path.join(dir, 'notes.txt');
  fs.writeFileSync(notes, 'keep me');
  assertOneLineError(
    bee('export', '--model', run, '--out', notes),
    /notes\.txt: exists and is not a packed bee model: not overwriting it \(name a new file, or pass --force/,
  );
  assert.equal(fs.readFileSync(notes, 'utf8'), 'keep me');
  assert.equal(bee('export', '--model', run, '--out', notes, '--force').status, 0);
  const packed = path.join(dir, 'm.bee');
  assert.equal(bee('export', '--model', run, '--out', packed).status, 0);
  assert.equal(bee('export', '--model', run, '--out', packed).status, 0, 'replacing a .bee file is what export is for');
  assertOneLineError(bee('sweep', '--model', run, '--out', notes), /notes\.txt: cannot create the sweep directory: .*notes\.txt is not a directory/);
  const blocked = path.join(path.dirname(notes), 'blocked-sweep');
  fs.mkdirSync(path.join(blocked, 'sweep.json'), { recursive: true }); // a write there fails, as on a full or read-only disk
  assertOneLineError(
    bee('sweep', '--model', run, '--out', blocked),
    /sweep\.json: cannot write: EISDIR \(is a directory\) \(check free disk space and permissions/,
  );
  assertOneLineError(bee('summary', '--model', packed), /m\.bee: is a file; this needs a model directory/);
});

/** A copy of the run's best checkpoint with `change` applied to its files. */
function damaged(change: (dir: string) => void): string {
  const dir = path.join(tempDir(), 'model');
  fs.cpSync(fs.realpathSync(path.join(run, 'best')), dir, { recursive: true });
  change(dir);
  return dir;
}
const editJson = (dir: string, file: string, edit: (json: Record<string, any>) => void) => {
  const json = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8'));
  edit(json);
  fs.writeFileSync(path.join(dir, file), JSON.stringify(json));
};

test('a model directory is checked as a whole when opened: bee.json against model.json and the weights', () => {
  const yes = path.join(import.meta.dirname, 'fixtures', 'yes-16k.wav');
  const cases: [string, string, RegExp][] = [
    ['labels', damaged((d) => editJson(d, 'bee.json', (m) => m.labels.pop())), /bad bee\.json: network\.classes is 3, and there are 2 labels/],
    [
      'labels and classes',
      damaged((d) => editJson(d, 'bee.json', (m) => (m.labels.pop(), (m.network.classes = 2)))),
      /model\.json does not match bee\.json's network: weight \d+ is exit1\/kernel \[\d+,3\], bee\.json's network has exit1\/kernel \[\d+,2\]/,
    ],
    [
      'duplicate labels',
      damaged((d) => editJson(d, 'bee.json', (m) => (m.labels[1] = m.labels[0]))),
      /bad bee\.json: labels must be two or more different strings/,
    ],
    ['filters', damaged((d) => editJson(d, 'bee.json', (m) => (m.network.filters = [8, 8, 8, 8]))), /model\.json does not match bee\.json's network/],
    ['features', damaged((d) => editJson(d, 'bee.json', (m) => (m.features.melBins = 40))), /bad bee\.json: network\.inputShape must be \[98, 40, 1\]/],
    ['fft', damaged((d) => editJson(d, 'bee.json', (m) => (m.features.fftLength = 1000))), /features\.fftLength must be a power of two/],
    ['truncated weights', damaged((d) => fs.truncateSync(path.join(d, 'weights.bin'), 100)), /the weights take 100 bytes; model\.json's specs need \d+/],
    [
      'NaN weights',
      damaged((d) => {
        const w = fs.readFileSync(path.join(d, 'weights.bin'));
        w.writeFloatLE(NaN, 0);
        fs.writeFileSync(path.join(d, 'weights.bin'), w);
      }),
      /weight block1_\w+\/kernel holds NaN or infinite values/,
    ],
    [
      'manifest outside',
      damaged((d) => editJson(d, 'model.json', (m) => (m.weightsManifest[0].paths = ['../../etc/passwd']))),
      /weightsManifest names files outside the model directory/,
    ],
    ['not JSON', damaged((d) => fs.writeFileSync(path.join(d, 'bee.json'), '{')), /bee\.json: not valid JSON/],
    [
      'a weights file named many times',
      damaged((d) => editJson(d, 'model.json', (m) => (m.weightsManifest[0].paths = Array(1000).fill('weights.bin')))),
      /weightsManifest names a file twice/,
    ],
    [
      'a huge network in bee.json',
      damaged((d) => editJson(d, 'bee.json', (m) => (m.network.filters = [4096, 4096, 4096, 4096]))),
      /bee\.json's network has at least \d+ weights; model\.json and the weights hold \d+/,
    ],
    [
      'a deeply nested inputShape',
      damaged((d) =>
        fs.writeFileSync(
          path.join(d, 'bee.json'),
          fs.readFileSync(path.join(d, 'bee.json'), 'utf8').replace(/"inputShape": \[[^\]]*\]/, `"inputShape": ${'['.repeat(100000)}${']'.repeat(100000)}`),
        ),
      ),
      /network\.inputShape must be \[98, 64, 1\]|not valid JSON/,
    ],
  ];
  for (const [what, dir, pattern] of cases) {
    for (const args of [
      ['predict', yes, '--model', dir],
      ['summary', '--model', dir],
      ['export', '--model', dir, '--out', path.join(dir, '..', 'x.bee')],
    ]) {
      const r = bee(...args);
      assert.equal(r.status === 70, false, `${what}, ${args[0]}: internal error ${r.stderr}`);
      assertOneLineError(r, pattern);
    }
    assert.ok(!fs.existsSync(path.join(dir, '..', 'x.bee')), `${what}: nothing exported`);
  }
});

test('internal errors that were: a one-class dataset, a missing --noise-dir, a symlink loop as --model', () => {
  const one = tempDir();
  makeToneDataset(one, ['only'], 12, 2);
  assertOneLineError(bee('train', '--data', one, '--epochs', '1', '--out', path.join(tempDir(), 'r')), /found 1 class \(only\): a classifier needs at least 2/);
  assertOneLineError(
    bee('train', '--data', root, '--noise-dir', path.join(one, 'nope'), '--epochs', '1', '--out', path.join(tempDir(), 'r')),
    /nope: cannot read the folder: ENOENT/,
  );
  const loop = path.join(tempDir(), 'loop');
  fs.symlinkSync(loop, loop);
  for (const command of ['eval', 'sweep', 'summary', 'export']) {
    const r = bee(command, '--model', loop, ...(command === 'export' ? ['--out', path.join(tempDir(), 'x.bee')] : []));
    assert.notEqual(r.status, 70, r.stderr);
    assertOneLineError(r, /loop: .*ELOOP/);
  }
});

test('WAV files with padded chunks, a streamed size, or NaN: data info and training skip the same files', async () => {
  const dir = tempDir();
  makeToneDataset(dir, undefined, 6, 2);
  const clip = (label: string, name: string) => path.join(dir, label, name);
  const padded = Buffer.from(encodeWav({ sampleRate: 16000, channels: [sine(500, 16000, 1)], bits: 16 }));
  // a LIST chunk of 5 bytes (and its pad byte) between fmt and data
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([5, 0, 0, 0]), Buffer.from('INFOx'), Buffer.alloc(1)]);
  fs.writeFileSync(clip('low', 'cafe0001_nohash_0.wav'), Buffer.concat([padded.subarray(0, 36), list, padded.subarray(36)]));
  const streamed = Buffer.from(padded);
  streamed.writeUInt32LE(0, 40);
  fs.writeFileSync(clip('mid', 'cafe0002_nohash_0.wav'), streamed);
  const nan = encodeWav({ sampleRate: 16000, channels: [sine(500, 16000, 1)], bits: 32, float: true });
  nan.writeFloatLE(NaN, 100);
  fs.writeFileSync(clip('high', 'cafe0003_nohash_0.wav'), nan);
  const ds = loadDataset(dir, { split: { salt: 'bee', validationPercent: 20, testPercent: 20 } });
  const summary = summarizeDataset(ds, 1);
  const features = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir: tempDir() });
  assert.deepEqual(
    summary.skipped.map((s) => path.basename(s.file)),
    ['cafe0003_nohash_0.wav'],
  );
  assert.deepEqual(
    features.failed.map((s) => path.basename(s.file)),
    ['cafe0003_nohash_0.wav'],
  );
  assert.match(features.failed[0].reason, /sample 14 is NaN/);
  assert.equal(readWav(clip('mid', 'cafe0002_nohash_0.wav')).samples.length, 16000, 'a streamed size reads to the end');
  // as background noise: the padded file is used, the NaN one skipped with a notice, and training runs
  const statuses: string[] = [];
  const out = path.join(tempDir(), 'r');
  await train({
    dataset,
    table,
    out,
    options: {
      ...options,
      augment: { maxShiftSeconds: 0.1, noiseProbability: 1, maxNoiseGain: 0.1 },
      noiseFiles: [clip('low', 'cafe0001_nohash_0.wav'), clip('high', 'cafe0003_nohash_0.wav')],
    },
    callbacks: { onStatus: (s) => statuses.push(s) },
  });
  assert.ok(
    statuses.some((s) => /skipping background noise .*cafe0003_nohash_0\.wav: sample 14 is NaN/.test(s)),
    statuses.join('\n'),
  );
});

test('temporary files of killed writers are removed at the next write; live writers are left alone', () => {
  const dir = tempDir();
  const target = path.join(dir, 'features.f32');
  const dead = path.join(dir, `.features.f32.${deadPid()}.tmp`);
  const deadDir = path.join(dir, `.features.f32.tmp-${deadPid()}`);
  const live = path.join(dir, `.features.f32.${process.ppid}.tmp`);
  for (const f of [dead, live]) fs.writeFileSync(f, 'x');
  fs.mkdirSync(deadDir);
  writeFileAtomic(target, 'new');
  assert.ok(!fs.existsSync(dead) && !fs.existsSync(deadDir));
  assert.ok(fs.existsSync(live));
  assert.equal(fs.readFileSync(target, 'utf8'), 'new');
});

test('one-line errors stay one line when a file name holds a line break', () => {
  const file = path.join(tempDir(), 'a\nb.wav');
  assert.throws(
    () => readWav(file),
    (err: unknown) => {
      assert.ok(err instanceof BeeError);
      assert.ok(!err.oneLine().includes('\n') && err.oneLine().includes('a\\nb.wav'), err.oneLine());
      return true;
    },
  );
});

test('bee eval says when it rebuilds a corrupt feature cache, as bee train does', () => {
  const own = tempDir('bee-cache-');
  const evalWith = beeWithCache(own);
  assert.equal(evalWith('eval', '--model', run, '--json').status, 0);
  const [entry] = fs.readdirSync(own);
  fs.appendFileSync(path.join(own, entry, 'features.f32'), 'garbage');
  const r = evalWith('eval', '--model', run, '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /feature cache was features file has the wrong size; rebuilt it/);
});

test('--cache-verify sees a same-size file replaced with its mtime kept; the default trusts size and mtime', async () => {
  const dir = tempDir();
  makeToneDataset(dir, undefined, 3, 1);
  const ds = loadDataset(dir, { split: { salt: 'bee' } });
  const cacheDir = tempDir();
  const file = ds.clips[0].file;
  const mtime = new Date('2026-01-01T00:00:00Z');
  fs.utimesSync(file, mtime, mtime);
  const first = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir });
  const bytes = Buffer.from(fs.readFileSync(file));
  for (let i = 44; i < bytes.length; i += 2) bytes.writeInt16LE(0, i); // same size, silence
  fs.writeFileSync(file, bytes);
  fs.utimesSync(file, mtime, mtime);
  const trusted = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir });
  assert.equal(trusted.stats.computed, 0, 'by default the same size and mtime is the same file');
  const verified = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir, verify: true });
  assert.ok(verified.stats.computed >= 1);
  const size = first.frames * first.melBins;
  assert.notDeepEqual(verified.features.subarray(0, size), first.features.subarray(0, size));
  const again = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir, verify: true });
  assert.equal(again.stats.computed, 0, 'verified hashes are kept');
});
