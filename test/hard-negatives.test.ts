import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readWav } from '../src/audio/wav.ts';
import { loadDataset } from '../src/data/dataset.ts';
import type { WindowAnswer } from '../src/stream/detector.ts';
import { type MiningOptions, NegativeMiner } from '../src/stream/hard-negatives.ts';
import { MINED_INDEX, writeMinedFolder } from '../src/stream/mine.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset } from './helpers/tones.ts';

const LABELS = ['_silence_', '_unknown_', 'up', 'yes'];
const RATE = 1000; // windows of 1 s = 1,000 samples: small enough to check by hand
const audio = { sampleRate: RATE, clipSamples: RATE };
const quiet = (l: string) => !l.startsWith('_');

/** A miner fed a ramp (sample i = i), and the windows' answers at `answers`' times, 0.1 s apart, pushed 0.1 s at a time. */
function mine(answers: [number, number[]][], options: Partial<MiningOptions> = {}) {
  const miner = new NegativeMiner(LABELS, quiet, audio, { minConfidence: 0.5, separationSeconds: 0.5, max: 10, ...options });
  let pushed = 0;
  for (const [time, p] of answers) {
    const end = Math.round(time * RATE);
    if (end > pushed) miner.push(Float32Array.from({ length: end - pushed }, (_, i) => pushed + i));
    pushed = Math.max(pushed, end);
    const answer: WindowAnswer = { time, exit: 2, probabilities: Float32Array.from(p) };
    miner.window(answer);
  }
  return { windows: miner.finish(), candidates: miner.candidates };
}

test('mining: keyword windows above the bar, one per event (its most confident), quiet labels left alone', () => {
  const { windows, candidates } = mine([
    [1.0, [0.9, 0.05, 0.05, 0]], // silence: not a keyword
    [1.1, [0, 0.5, 0.45, 0.05]], // _unknown_ on top
    [1.2, [0, 0.2, 0.6, 0.2]], // up 0.6: an event starts
    [1.3, [0, 0.1, 0.8, 0.1]], // up 0.8: the same event, more confident
    [1.4, [0, 0.2, 0.7, 0.1]], // less confident: the event keeps 1.3
    [2.5, [0, 0.2, 0.3, 0.5]], // yes 0.5 (>= the bar), 1.1 s later: a new event
    [2.6, [0, 0.6, 0.2, 0.2]],
    [4.0, [0, 0.1, 0.45, 0.45]], // below the bar
  ]);
  assert.equal(candidates, 4);
  assert.deepEqual(
    windows.map((w) => [w.time, w.label, Math.round(100 * w.confidence), w.exit]),
    [
      [1.3, 'up', 80, 2],
      [2.5, 'yes', 50, 2],
    ],
  );
  // the window's audio: the second before its end
  assert.deepEqual(
    [...windows[0].samples],
    Array.from({ length: RATE }, (_, i) => 300 + i),
  );
  assert.deepEqual(
    [...windows[1].samples],
    Array.from({ length: RATE }, (_, i) => 1500 + i),
  );
});

test('mining: events of windows closer than the separation chain; spoken spans and the cap', () => {
  // a keyword every 0.4 s for 2 s, less and less sure: one event, however long, kept by its first window
  const chain = mine(Array.from({ length: 6 }, (_, i) => [1 + 0.4 * i, [0, 0, 0.65 - 0.01 * i, 0.35 + 0.01 * i]] as [number, number[]]));
  assert.deepEqual(
    chain.windows.map((w) => w.time),
    [1],
  );
  const spaced: [number, number[]][] = [1, 2, 3, 4].map((t) => [t, [0, 0, 0.5 + t / 10, 0.5 - t / 10]]);
  // a word spoken in 2.5-2.8 s: the window of 2-3 s holds it, those of 1-2 and 3-4 s do not
  assert.deepEqual(
    mine(spaced, { spoken: [{ start: 2.5, end: 2.8 }] }).windows.map((w) => w.time),
    [1, 2, 4],
  );
  // at most 2: the two most confident, in stream order
  assert.deepEqual(
    mine(spaced, { max: 2 }).windows.map((w) => w.time),
    [3, 4],
  );
  // a stream shorter than a window: the listener padded it with silence, and so does the window
  const miner = new NegativeMiner(LABELS, quiet, audio, { minConfidence: 0.5, separationSeconds: 0.5, max: 10 });
  miner.push(Float32Array.from({ length: 600 }, (_, i) => i + 1));
  miner.window({ time: 1, exit: 1, probabilities: Float32Array.from([0, 0, 1, 0]) });
  const [padded] = miner.finish();
  assert.deepEqual([...padded.samples], [...Array.from({ length: 600 }, (_, i) => i + 1), ...new Array(400).fill(0)]);
});

test('a mined folder: WAVs and mined.json, written whole; bee train --hard-negatives reads it as training _unknown_', () => {
  const dir = tempDir('bee-mined-');
  const out = path.join(dir, 'mined');
  const windows = mine([
    [1.3, [0, 0, 0.8, 0.2]],
    [2.5, [0, 0, 0.3, 0.7]],
  ]).windows.map((w) => ({ ...w, samples: w.samples.map((x) => x / 10000) }));
  const provenance = { stream: '/s.wav', model: '/m.bee', options: { minConfidence: 0.5, separationSeconds: 0.5, max: 10 } };
  writeMinedFolder(out, windows, RATE, provenance);
  const index = JSON.parse(fs.readFileSync(path.join(out, MINED_INDEX), 'utf8'));
  assert.equal(index.stream, '/s.wav');
  assert.deepEqual(
    index.windows.map((w: { file: string; label: string }) => [w.file, w.label]),
    [
      ['00001.3s-up.wav', 'up'],
      ['00002.5s-yes.wav', 'yes'],
    ],
  );
  const wav = readWav(path.join(out, '00001.3s-up.wav'));
  assert.equal(wav.sampleRate, RATE);
  assert.ok(Math.abs(wav.samples[999] - 0.1299) < 1e-4, 'the window, quantized to 16 bits');
  assert.throws(() => writeMinedFolder(out, windows, RATE, provenance), /exists already/);
  writeMinedFolder(out, windows.slice(0, 1), RATE, provenance, true);
  assert.equal(fs.readdirSync(out).length, 2, 'replaced whole: one window and mined.json');
  const other = path.join(dir, 'other');
  fs.mkdirSync(other);
  assert.throws(() => writeMinedFolder(other, windows, RATE, provenance, true), /not a folder bee data mine wrote/);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('tmp')),
    [],
  );

  const data = path.join(dir, 'tones');
  makeToneDataset(data, ['high', 'low', '_unknown_'], 10, 1);
  const plain = loadDataset(data);
  const withHard = loadDataset(data, { hardNegatives: out });
  const added = withHard.clips.filter((c) => !plain.clips.some((p) => p.file === c.file));
  assert.deepEqual(
    added.map((c) => [path.basename(c.file), c.label, c.split]),
    [['00001.3s-up.wav', '_unknown_', 'train']],
  );
  assert.equal(withHard.hardNegatives, path.resolve(out));
  assert.deepEqual(withHard.classes, plain.classes);
  const noUnknown = path.join(dir, 'tones2');
  makeToneDataset(noUnknown, ['high', 'low'], 10, 1);
  assert.throws(() => loadDataset(noUnknown, { hardNegatives: out }), /labelled _unknown_, and the dataset has no such class/);
  assert.throws(() => loadDataset(data, { hardNegatives: path.join(dir, 'nowhere') }), /no such folder of hard negatives/);
});
