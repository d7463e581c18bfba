import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { readWav } from '../src/audio/wav.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { loadFeatures } from '../src/data/feature-cache.ts';
import { LogMel } from '../src/features/logmel.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { beeWithCache } from './helpers/cli.ts';
import { tempDir, writeClip } from './helpers/datasets.ts';
import { toneRun } from './helpers/tone-run.ts';
import { makeToneDataset } from './helpers/tones.ts';

function dataset(): string {
  const root = tempDir();
  for (let i = 0; i < 40; i++)
    writeClip(path.join(root, i % 2 ? 'up' : 'down', `${(0xa0000000 + i).toString(16)}_nohash_0.wav`), 200 + 37 * i, i % 4 ? 16000 : 8000, 0.4 + (i % 5) * 0.2);
  fs.writeFileSync(path.join(root, 'up', 'broken.wav'), 'RIFF....WAVEjunk');
  return root;
}

const row = (t: { features: Float32Array; frames: number; melBins: number }, i: number) =>
  t.features.subarray(i * t.frames * t.melBins, (i + 1) * t.frames * t.melBins);

test('features are computed once on worker threads, then reused; bad files are skipped and reported', async () => {
  const root = dataset();
  const cacheDir = tempDir('bee-cache-');
  const ds = loadDataset(root);
  const progress: number[] = [];
  const first = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir, workers: 2, onProgress: (done) => progress.push(done) });
  assert.equal(first.stats.computed, 41);
  assert.equal(first.clips.length, 40);
  assert.deepEqual(
    first.failed.map((f) => [path.basename(f.file), f.reason]),
    [['broken.wav', 'truncated: no fmt chunk']],
  );
  assert.equal(progress.at(-1), 41);
  // Same values as featurizing directly, row by row, in dataset order.
  const logMel = new LogMel(PAPER_FEATURES);
  for (const i of [0, 7, 39]) assert.deepEqual(row(first, i), logMel.fromAudio(readWav(first.clips[i].file)).data);

  const indexFile = path.join(first.stats.cacheDir, 'index.json');
  const written = fs.statSync(indexFile).mtimeMs;
  const second = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir });
  assert.equal(second.stats.computed, 0);
  assert.equal(second.stats.reused, 41);
  assert.deepEqual(second.features, first.features);
  assert.equal(second.failed.length, 1);
  assert.equal(fs.statSync(indexFile).mtimeMs, written, 'an unchanged cache is not rewritten');
});

test('a changed file is recomputed alone; another feature setting gets its own cache', async () => {
  const root = dataset();
  const cacheDir = tempDir('bee-cache-');
  const ds = loadDataset(root);
  const first = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir, workers: 0 });
  const changed = first.clips[3].file;
  writeClip(changed, 3000, 16000, 1);
  const second = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir });
  assert.equal(second.stats.computed, 1);
  assert.notDeepEqual(row(second, 3), row(first, 3));
  assert.deepEqual(row(second, 4), row(first, 4));

  const narrow = await loadFeatures(ds, { params: { ...PAPER_FEATURES, melBins: 40 }, cacheDir });
  assert.equal(narrow.stats.computed, 41);
  assert.equal(narrow.features.length, 40 * 98 * 40);
  assert.notEqual(narrow.stats.cacheDir, second.stats.cacheDir);
});

test('a corrupted cache is detected and rebuilt, never used', async () => {
  const root = dataset();
  const cacheDir = tempDir('bee-cache-');
  const ds = loadDataset(root);
  const good = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir });
  const featuresFile = path.join(good.stats.cacheDir, 'features.f32');
  const indexFile = path.join(good.stats.cacheDir, 'index.json');

  const bytes = fs.readFileSync(featuresFile);
  bytes[12345] ^= 0x40;
  fs.writeFileSync(featuresFile, bytes);
  const flipped = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir });
  assert.match(flipped.stats.rebuilt!, /checksum/);
  assert.equal(flipped.stats.computed, 41);
  assert.deepEqual(flipped.features, good.features);

  fs.truncateSync(featuresFile, 1000);
  assert.match((await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir })).stats.rebuilt!, /wrong size/);

  fs.writeFileSync(indexFile, '{"format": 1, "entr');
  const garbled = await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir });
  assert.match(garbled.stats.rebuilt!, /unreadable/);
  assert.deepEqual(garbled.features, good.features);
  assert.equal((await loadFeatures(ds, { params: PAPER_FEATURES, cacheDir })).stats.computed, 0, 'the rebuilt cache is valid');
});

// Regression tests from the hostile-input pass (issue 11); the first on a tiny trained run (helpers/tone-run.ts).
let run: string; // a trained run directory
before(async () => {
  ({ run } = await toneRun(tempDir('bee-cache-')));
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
