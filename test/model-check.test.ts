// Checking a model's metadata (bee.json) alone and against model.json and the weights.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { BeeError } from '../src/errors.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { metaProblem } from '../src/model/model-check.ts';
import { networkConfig } from '../src/model/network.ts';
import { readModelMeta } from '../src/model/saved-model.ts';
import { assertOneLineError, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { LIMITS, refusesOrReads } from './helpers/fuzz.ts';
import { toneRun } from './helpers/tone-run.ts';

test('fuzz: random model metadata: bee.json is refused in one line, or described by a valid network', () => {
  const dir = tempDir();
  const good = {
    format: 'bee-model',
    formatVersion: 2,
    beeVersion: '0.2.0',
    labels: ['a', 'b', 'c'],
    features: PAPER_FEATURES,
    network: networkConfig({ inputShape: [98, 64, 1], classes: 3 }),
    versions: {},
  };
  const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(NaN, Infinity, -1, 0, 1e9, 4097, [], {}, null));
  const paths = fc.constantFrom(
    'labels',
    'features',
    'network',
    'calibration',
    'formatVersion',
    'features.melBins',
    'features.fftLength',
    'features.sampleRate',
    'network.filters',
    'network.exitHead',
    'network.exitHead.grid',
    'network.exitHead.hidden',
    'network.bnMomentum',
    'network.classes',
    'network.precision',
    'network.seed',
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(paths, anyValue), { minLength: 1, maxLength: 3 }), (edits) => {
      const meta = structuredClone(good) as Record<string, any>;
      for (const [at, value] of edits) {
        const keys = at.split('.');
        let node = meta;
        for (const k of keys.slice(0, -1)) node = typeof node[k] === 'object' && node[k] !== null ? node[k] : (node[k] = {});
        node[keys.at(-1)!] = value;
      }
      assert.doesNotThrow(() => metaProblem(meta));
      fs.writeFileSync(path.join(dir, 'bee.json'), JSON.stringify(meta));
      const read = refusesOrReads(() => readModelMeta(dir));
      if (read instanceof BeeError) return;
      assert.equal(metaProblem(read), undefined);
      assert.equal(read.network.classes, read.labels.length);
    }),
    { ...LIMITS, numRuns: 300 },
  );
});

// A regression test from the hostile-input pass (issue 11), on a tiny trained run (helpers/tone-run.ts).
const cache = tempDir('bee-cache-');
const bee = beeWithCache(cache);
let run: string; // a trained run directory
before(async () => {
  ({ run } = await toneRun(cache));
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
