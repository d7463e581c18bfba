import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readWav } from '../src/audio/wav.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { loadFeatures } from '../src/data/feature-cache.ts';
import { LogMel } from '../src/features/logmel.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { tempDir, writeClip } from './helpers/datasets.ts';

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
