import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { assertOneLineError as assertRefused, beeWithCache } from './helpers/cli.ts';
import { sharedSkip, SHARED_TEST_SET, tempDir, writeClip } from './helpers/datasets.ts';
import { toneRoot } from './helpers/tone-run.ts';
import { makeToneDataset } from './helpers/tones.ts';

// The real entry point (launcher + built CLI): `npm test` builds dist/ first.
const BEE = path.join(import.meta.dirname, '..', 'bin', 'bee.js');
const fixture = path.join(import.meta.dirname, 'fixtures', 'yes-16k.wav');

function bee(...args: string[]) {
  return beeWith({}, ...args);
}

function beeWith(env: Record<string, string>, ...args: string[]) {
  const r = spawnSync(process.execPath, [BEE, ...args], { encoding: 'utf8', env: { ...process.env, BEE_CACHE_DIR: tempDir('bee-cli-cache-'), ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function assertOneLineError(r: ReturnType<typeof bee>, code: number, pattern: RegExp) {
  assert.equal(r.code, code, r.stderr);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, `one line expected:\n${r.stderr}`);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

test('bee info --json reports the backend, tuned malloc and versions', () => {
  const r = bee('info', '--json');
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout);
  assert.ok(['tensorflow', 'wasm', 'cpu'].includes(info.backend));
  assert.equal(info.mallocTuned, true, 'the launcher sets the malloc variables');
  assert.equal(info.versions['tfjs-core'], '4.22.0');
  assert.ok(info.threads >= 1);
  assert.match(info.pretrained.spotter, /sc12\.bee$/);
  assert.match(info.pretrained.transferBase, /sc12-base\.bee$/);
  // CI installs the native addon and bee's fused kernels: there, anything less is a failure.
  if (process.env.BEE_EXPECT_NATIVE === '1') {
    assert.equal(info.backend, 'tensorflow', info.fallbackReason);
    assert.ok(info.native?.source, 'where the native library came from');
    assert.equal(info.fusedOps, true, "bee's fused training kernels (scripts/install-native.mjs builds them)");
  }
});

test('the wasm fallback works; an unknown backend is refused', () => {
  const r = beeWith({ BEE_BACKEND: 'wasm' }, 'info', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).backend, 'wasm');
  assertOneLineError(beeWith({ BEE_BACKEND: 'gpu' }, 'info'), 1, /unknown backend 'gpu' \(BEE_BACKEND must be one of tensorflow, wasm, cpu\)/);
});

test('bee features --json prints a 98 x 64 matrix', () => {
  const r = bee('features', fixture, '--json');
  assert.equal(r.code, 0, r.stderr);
  const { shape, data } = JSON.parse(r.stdout);
  assert.deepEqual(shape, [98, 64]);
  assert.equal(data.length, 98);
  assert.equal(data[0].length, 64);
  assert.ok(data.flat().every((v: number) => Number.isFinite(v) && v >= Math.log(1e-6) - 1e-4));
});

test('bad input: one-line errors and non-zero exit codes, never a stack trace', () => {
  const dir = tempDir();
  const junk = path.join(dir, 'junk.wav');
  fs.writeFileSync(junk, 'definitely not audio');
  assertOneLineError(bee('features', junk), 1, /junk\.wav: not a WAV file .*\(expected a PCM or float WAV file\)/);
  assertOneLineError(bee('features', path.join(dir, 'missing.wav')), 1, /missing\.wav: cannot read: ENOENT/);
  assertOneLineError(bee('data', 'info', '--data', path.join(dir, 'nope')), 1, /nope: no such dataset directory/);
  assertOneLineError(bee('data', 'info', '--data', dir, '--validation-percent', '120'), 1, /expected a percentage/);
  assertOneLineError(bee('info', '--bogus'), 1, /unknown option '--bogus'/);
  assertOneLineError(bee('web', '--base', path.join(dir, 'nope.bee'), '--port', '0'), 1, /nope\.bee: no such file or model directory \(pass --base/);
});

test('bee train: bad input gives one-line errors before any work', () => {
  const dir = tempDir();
  assertOneLineError(bee('train', '--out', path.join(dir, 'run')), 1, /no dataset \(pass --data DIR\)/);
  assertOneLineError(
    bee('train', '--data', dir, '--exit-weights', '1,2'),
    1,
    /2 exit weights for a network of 4 exits \(one per exit, e.g. --exit-weights 1,1,1,1\)/,
  );
  assertOneLineError(bee('train', '--data', dir, '--filters', '16,32,64', '--exit-weights', '1,1,1,1'), 1, /4 exit weights for a network of 3 exits/);
  assertOneLineError(bee('train', '--data', dir, '--epochs', '0'), 1, /expected a whole number >= 1/);
  assertOneLineError(bee('train', '--data', dir, '--class-weights', '_unknown_=0'), 1, /expected LABEL=WEIGHT pairs, each weight > 0/);
  assertOneLineError(
    bee('train', '--out', path.join(dir, 'none'), '--resume'),
    1,
    /none: no checkpoint to resume from \(run without --resume to start training\)/,
  );
  assertOneLineError(bee('train', '--data', path.join(dir, 'missing')), 1, /missing: no such dataset directory/);
  assertOneLineError(bee('train', '--data', dir, '--lr', '1e400'), 1, /expected a finite number > 0/);
  assertOneLineError(bee('train', '--data', dir, '--exit-weights', '1e400,1,1,1'), 1, /expected one finite number >= 0 per exit/);
  assertOneLineError(bee('train', '--data', dir, '--bn-momentum', '1'), 1, /expected a number in \[0, 1\)/);
  assertOneLineError(bee('train', '--data', dir, '--exit-head', 'paper', '--exit-grid', '2x2'), 1, /--exit-grid and --exit-hidden shape the pooled exit head/);
  assertOneLineError(bee('train', '--data', dir, '--exit-head', 'paper', '--exit-hidden', '8'), 1, /--exit-grid and --exit-hidden shape the pooled exit head/);
  assertOneLineError(bee('train', '--data', dir, '--exit-grid', '4'), 1, /expected ROWSxCOLUMNS/);
  assertOneLineError(
    bee('train', '--data', dir, '--no-augment', '--spec-augment'),
    1,
    /--spec-augment, --noise-snr, --cut-words, --synth-negatives and --speed-perturb shape the augmentation/,
  );
  assertOneLineError(
    bee('train', '--data', dir, '--no-augment', '--speed-perturb', '0.1'),
    1,
    /--speed-perturb shape the augmentation, and --no-augment turns it off/,
  );
  assertOneLineError(bee('train', '--data', dir, '--speed-perturb', '0.6'), 1, /expected a share in \[0, 0.5\]/);
  assertOneLineError(bee('train', '--data', dir, '--precision', 'float', '--sign-shift'), 1, /act on binary kernels and signs/);
  assertOneLineError(bee('train', '--data', dir, '--teacher', dir, '--distill', '0'), 1, /a teacher teaches through the distillation term/);
});

test('bee data info --json on a small dataset', () => {
  const root = tempDir();
  for (let i = 0; i < 12; i++) writeClip(path.join(root, i % 2 ? 'on' : 'off', `${(0xc0000000 + i * 977).toString(16)}_nohash_0.wav`), 300 + i * 20);
  const r = bee('data', 'info', '--data', root, '--json', '--split-salt', 'bee');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.deepEqual(s.classes, ['off', 'on']);
  assert.equal(s.clips, 12);
  assert.equal(s.splits.train.clips + s.splits.validation.clips + s.splits.test.clips, 12);
  assert.equal(s.sharedSpeakers, 0);
});

test('bee data info on the shared Speech Commands test set (--split-salt bee)', { skip: sharedSkip }, () => {
  const r = bee('data', 'info', '--data', SHARED_TEST_SET, '--split-salt', 'bee', '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.classes.length, 12);
  assert.equal(s.clips, 4890);
  assert.equal(s.sharedSpeakers, 0);
  assert.deepEqual([s.splits.train.clips, s.splits.validation.clips, s.splits.test.clips], [3646, 643, 601]);
});

test('--help shows examples for every command', () => {
  for (const args of [
    [],
    ['info'],
    ['features'],
    ['data', 'info'],
    ['data', 'download'],
    ['train'],
    ['summary'],
    ['eval'],
    ['sweep'],
    ['predict'],
    ['export'],
  ]) {
    const r = bee(...args, '--help');
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /Examples:\n\s+\$ bee /, `bee ${args.join(' ')} --help`);
  }
});

// A regression test from the hostile-input pass (issue 11), on the tone dataset (helpers/tone-run.ts).
// Its commands run as the other hostile-input tests run them: helpers/cli.ts, with spawnSync's result.
const beeCached = beeWithCache(tempDir('bee-cache-'));
let root: string;
before(() => {
  root = toneRoot();
});

test('internal errors that were: a one-class dataset, a missing --noise-dir, a symlink loop as --model', () => {
  const one = tempDir();
  makeToneDataset(one, ['only'], 12, 2);
  assertRefused(
    beeCached('train', '--data', one, '--epochs', '1', '--out', path.join(tempDir(), 'r')),
    /found 1 class \(only\): a classifier needs at least 2/,
  );
  assertRefused(
    beeCached('train', '--data', root, '--noise-dir', path.join(one, 'nope'), '--epochs', '1', '--out', path.join(tempDir(), 'r')),
    /nope: cannot read the folder: ENOENT/,
  );
  const loop = path.join(tempDir(), 'loop');
  fs.symlinkSync(loop, loop);
  for (const command of ['eval', 'sweep', 'summary', 'export']) {
    const r = beeCached(command, '--model', loop, ...(command === 'export' ? ['--out', path.join(tempDir(), 'x.bee')] : []));
    assert.notEqual(r.status, 70, r.stderr);
    assertRefused(r, /loop: .*ELOOP/);
  }
});

test('a 3-stage and a 5-stage network: bee summary, eval, sweep, export and listen show their exits', () => {
  const dir = tempDir();
  const data = path.join(dir, 'tones');
  makeToneDataset(data, undefined, 8, 2);
  const split = ['--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20'];
  const clip = path.join(data, 'mid', fs.readdirSync(path.join(data, 'mid'))[0]);
  for (const filters of ['16,32,64', '8,8,16,16,24']) {
    const stages = filters.split(',').length;
    const out = path.join(dir, `run-${stages}`);
    const json = (...args: string[]) => {
      const r = bee(...args, '--json');
      assert.equal(r.code, 0, r.stderr);
      // one JSON document, or (bee listen) one object a line, the summary last
      const text = r.stdout.trim();
      return JSON.parse(args[0] === 'listen' ? text.split('\n').at(-1)! : text);
    };
    json('train', '--data', data, ...split, '--filters', filters, '--epochs', '1', '--no-augment', '--out', out);
    assert.equal(json('summary', '--model', out).exits.length, stages, `summary, ${filters}`);
    assert.equal(json('eval', '--model', out, '--split', 'test').perExit.length, stages, `eval, ${filters}`);
    assert.equal(json('sweep', '--model', out, '--out', path.join(out, 'sweep')).exits.length, stages, `sweep, ${filters}`);
    json('export', '--model', out, '--out', path.join(out, 'model.bee'));
    const listened = json('listen', clip, '--model', path.join(out, 'model.bee'));
    assert.equal(listened.windowsPerExit.length, stages, `listen, ${filters}`);
    assert.ok(listened.computeShare > 0 && listened.computeShare <= 1);
  }
});
