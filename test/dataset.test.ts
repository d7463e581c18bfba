import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { readWav } from '../src/audio/wav.ts';
import { type Dataset, loadDataset, sharedSpeakers } from '../src/data/dataset.ts';
import { type FeatureTable, loadFeatures } from '../src/data/feature-cache.ts';
import { speakerOf, splitOf } from '../src/data/split.ts';
import { summarizeDataset } from '../src/data/dataset-summary.ts';
import { BeeError } from '../src/errors.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { train } from '../src/train/trainer.ts';
import { makeSpeechCommandsArchive, sharedSkip, SHARED_TEST_SET, tempDir, writeClip } from './helpers/datasets.ts';
import { TONE_OPTIONS as options, toneData } from './helpers/tone-run.ts';
import { makeToneDataset } from './helpers/tones.ts';
import { encodeWav, sine } from './helpers/wav.ts';

test('speaker ids follow the Speech Commands naming, test-set unknown clips included', () => {
  assert.equal(speakerOf('0a7c2a8d_nohash_3.wav'), '0a7c2a8d');
  assert.equal(speakerOf('backward_0c540988_nohash_0.wav.wav'), '0c540988');
  assert.equal(speakerOf('1024.wav'), '1024');
  assert.equal(speakerOf('Take 3.WAV'), 'Take 3');
});

test('the official split rule, and the salted one (values from the reference Python)', () => {
  const official = { validationPercent: 10, testPercent: 10 };
  assert.equal(splitOf('0a7c2a8d', official), 'train'); // 56.84%
  assert.equal(splitOf('0c40e715', official), 'test'); // 16.40%
  assert.equal(splitOf('3d86b69a', official), 'test'); // 15.56%
  const salted = { validationPercent: 10, testPercent: 20, salt: 'bee' };
  assert.equal(splitOf('0a7c2a8d', salted), 'validation'); // 1.90%
  assert.equal(splitOf('0b09edd3', salted), 'test'); // 26.52%
  assert.equal(splitOf('0c40e715', salted), 'train'); // 98.93%
});

test('folder-per-class layout: recursive, .wav.wav, any rate; splits keep speakers apart', () => {
  const root = tempDir();
  const speakers = Array.from({ length: 60 }, (_, i) => (0x10000000 + i * 7919).toString(16));
  for (const [c, label] of ['up', 'down', '_unknown_'].entries()) {
    speakers.forEach((s, i) => {
      const name = label === '_unknown_' ? `bird_${s}_nohash_0.wav.wav` : `${s}_nohash_${i % 2}.wav`;
      writeClip(path.join(root, label, i % 3 === 0 ? 'nested' : '', name), 300 + c * 50, i % 2 ? 8000 : 16000, 0.1);
    });
  }
  const ds = loadDataset(root, { split: { salt: 'x' } });
  assert.equal(ds.layout, 'folders');
  assert.deepEqual(ds.classes, ['_unknown_', 'down', 'up']);
  assert.equal(ds.clips.length, 180);
  assert.equal(new Set(ds.clips.map((c) => c.speaker)).size, 60);
  assert.deepEqual(sharedSpeakers(ds.clips), []);
  const bySplit = (s: string) => new Set(ds.clips.filter((c) => c.split === s).map((c) => c.speaker));
  for (const a of ['train', 'validation', 'test']) {
    for (const b of ['train', 'validation', 'test']) {
      if (a !== b) for (const s of bySplit(a)) assert.ok(!bySplit(b).has(s), `${s} in ${a} and ${b}`);
    }
  }
  assert.ok(bySplit('train').size > 30 && bySplit('validation').size > 0 && bySplit('test').size > 5);
  assert.notDeepEqual(
    loadDataset(root, { split: { salt: 'y' } }).clips.map((c) => c.split),
    ds.clips.map((c) => c.split),
  );
});

test('an empty split is warned about', () => {
  const root = tempDir();
  writeClip(path.join(root, 'a', '0a7c2a8d_nohash_0.wav'), 300);
  writeClip(path.join(root, 'b', '0a7c2a8d_nohash_1.wav'), 400);
  const summary = summarizeDataset(loadDataset(root), 1);
  assert.deepEqual(summary.splits.train, { clips: 2, speakers: 1 });
  assert.equal(summary.warnings.length, 2);
  assert.match(summary.warnings[0], /validation split is empty.*--split-salt/);
});

test('Speech Commands archive layout: TFDS 12-class mapping, official lists, silence windows', () => {
  const root = tempDir();
  makeSpeechCommandsArchive(root);
  const ds = loadDataset(root);
  assert.equal(ds.layout, 'speech-commands');
  assert.equal(ds.split.method, 'lists');
  assert.deepEqual(ds.classes, ['_silence_', '_unknown_', 'no', 'yes']);
  const find = (rel: string) => ds.clips.find((c) => c.file === path.join(root, rel))!;
  assert.equal(find('bed/0a7c2a8d_nohash_0.wav').label, '_unknown_');
  assert.equal(find('bed/0a7c2a8d_nohash_0.wav').split, 'validation');
  assert.equal(find('no/0c40e715_nohash_0.wav').split, 'test');
  assert.equal(find('yes/beefcafe_nohash_0.wav').split, 'train');
  const silence = ds.clips.filter((c) => c.label === '_silence_');
  assert.equal(silence.length, 3); // 3.5 s of noise -> three whole 1 s windows
  assert.deepEqual(
    silence.map((c) => c.window),
    [0, 1, 2].map((w) => ({ start: w * 16000, length: 16000 })),
  );
  assert.ok(ds.noiseFiles[0].endsWith('white_noise.wav'));

  const all = loadDataset(root, { classSet: 'all' });
  assert.deepEqual(all.classes, ['bed', 'cat', 'no', 'yes']);
  const hashed = loadDataset(root, { split: { salt: 'bee' } });
  assert.equal(hashed.split.method, 'hash');
  assert.equal(hashed.split.salt, 'bee');
});

test('an unreadable noise recording is skipped and reported, not fatal', () => {
  const root = tempDir();
  makeSpeechCommandsArchive(root);
  fs.writeFileSync(path.join(root, '_background_noise_', 'broken.wav'), 'RIFF\0\0\0\0WAVE');
  const ds = loadDataset(root);
  assert.equal(ds.clips.filter((c) => c.label === '_silence_').length, 3);
  assert.deepEqual(summarizeDataset(ds, 1).skipped, [{ file: '_background_noise_/broken.wav', reason: 'truncated: no fmt chunk' }]);
});

test('bad dataset paths fail with one-line reasons', () => {
  assert.throws(
    () => loadDataset('/nonexistent/data'),
    (e: unknown) => e instanceof BeeError && /no such dataset directory/.test(e.message),
  );
  const empty = tempDir();
  assert.throws(() => loadDataset(empty), /no class folders found/);
  fs.mkdirSync(path.join(empty, 'yes'));
  assert.throws(() => loadDataset(empty), /no \.wav files found/);
});

test('summary counts skipped files and durations', () => {
  const root = tempDir();
  writeClip(path.join(root, 'a', 's1_nohash_0.wav'), 300, 16000, 0.5);
  writeClip(path.join(root, 'a', 's2_nohash_0.wav'), 300, 8000, 1.5);
  fs.writeFileSync(path.join(root, 'a', 'broken.wav'), 'RIFF');
  const s = summarizeDataset(loadDataset(root), 1);
  assert.equal(s.clips, 2);
  assert.deepEqual(s.skipped, [{ file: 'a/broken.wav', reason: 'not a WAV file (no RIFF/WAVE header)' }]);
  assert.deepEqual(s.sampleRates, { 8000: 1, 16000: 1 });
  assert.equal(s.durations.shorterThanClip, 1);
  assert.equal(s.durations.longerThanClip, 1);
  assert.equal(s.durations.mean, 1);
});

test('shared Speech Commands test set, split by speaker with --split-salt bee', { skip: sharedSkip }, () => {
  const s = summarizeDataset(loadDataset(SHARED_TEST_SET, { split: { salt: 'bee' } }), 1);
  assert.equal(s.classes.length, 12);
  assert.equal(s.clips, 4890);
  assert.equal(s.sharedSpeakers, 0);
  assert.deepEqual([s.splits.train.clips, s.splits.validation.clips, s.splits.test.clips], [3646, 643, 601]);
  assert.deepEqual(s.skipped, []);
});

// A regression test from the hostile-input pass (issue 11), training on the tone dataset (helpers/tone-run.ts).
let dataset: Dataset;
let table: FeatureTable;
before(async () => {
  ({ dataset, table } = await toneData(tempDir('bee-cache-')));
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
