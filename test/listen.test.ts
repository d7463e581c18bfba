import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { readWav } from '../src/audio/wav.ts';
import { Detector, type WindowAnswer } from '../src/stream/detector.ts';
import { PcmDecoder } from '../src/stream/pcm.ts';
import { parseTruthCsv, scoreStream } from '../src/stream/score.ts';
import { assertOneLineError, BEE, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset } from './helpers/tones.ts';

const answer = (time: number, p: number[], exit = 1): WindowAnswer => ({ time, exit, probabilities: Float32Array.from(p) });

test('the detection rule: smoothed over recent windows, quiet labels ignored, suppression after a detection', () => {
  const rule = { minConfidence: 0.6, suppressMs: 500, smoothWindows: 2, ignore: new Set(['_silence_']) };
  const d = new Detector(['_silence_', 'yes', 'no'], rule);
  assert.equal(d.push(answer(1.0, [0.9, 0.05, 0.05])), null, 'silence is not reported');
  assert.equal(d.push(answer(1.1, [0.1, 0.9, 0])), null, 'mean of the last two: yes 0.475');
  assert.deepEqual(d.push(answer(1.2, [0, 0.8, 0.2], 2)), { time: 1.2, label: 'yes', confidence: Math.fround(0.85), exit: 2 });
  assert.equal(d.push(answer(1.6, [0, 0.9, 0.1])), null, 'within 500 ms of the last detection');
  assert.equal(d.push(answer(1.7, [0, 0.1, 0.9])), null, 'still within 500 ms');
  assert.equal(d.push(answer(1.8, [0, 0.1, 0.9]))?.label, 'no');
});

test('scoring: hits within a word (and 1 s after it), false alarms, misses, delay', () => {
  const truth = parseTruthCsv('start,end,label\n1,2,yes\n5,6,no\n9,10,_unknown_\n', 't.csv');
  const detections = [
    { time: 2.5, label: 'yes', confidence: 0.9, exit: 1 }, // hit, 1.5 s after the start
    { time: 2.9, label: 'yes', confidence: 0.9, exit: 1 }, // the word is hit already: a false alarm
    { time: 4.0, label: 'no', confidence: 0.9, exit: 1 }, // before the word: a false alarm
  ];
  const s = scoreStream(detections, truth, 3600, (l) => l !== '_unknown_');
  assert.deepEqual(s, { words: 2, hits: 1, misses: 1, falseAlarms: 2, hitRate: 0.5, falseAlarmsPerHour: 2, meanDelayMs: 1500 });
  assert.throws(() => parseTruthCsv('a,b\n', 'x.csv'), /x\.csv: not a truth file/);
  assert.throws(() => parseTruthCsv('start,end,label\n2,1,yes\n', 'x.csv'), /line 2: expected start,end,label/);
  assert.throws(() => parseTruthCsv('start,end,label\n0x1,2,yes\n', 'x.csv'), /line 2/);
});

test('raw PCM: sample frames split across chunks, channels mixed, stray bytes counted', () => {
  const d = new PcmDecoder('s16le', 2);
  const bytes = Buffer.alloc(12);
  [16384, -16384, 32767, 32767, -32768, 0].forEach((v, i) => bytes.writeInt16LE(v, 2 * i));
  const a = d.decode(bytes.subarray(0, 5));
  const b = d.decode(bytes.subarray(5));
  assert.deepEqual([...a, ...b], [0, 1, -32768 / 32767 / 2].map(Math.fround));
  d.decode(Buffer.from([1, 2, 3]));
  assert.equal(d.strayBytes, 3);
});

let dir: string;
let model: string;
const bee = (...args: string[]) => beeWithCache(path.join(dir, 'cache'))(...args);

before(() => {
  dir = tempDir('bee-listen-');
  const data = path.join(dir, 'tones');
  makeToneDataset(data, undefined, 20, 3);
  const split = ['--data', data, '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20'];
  const run = path.join(dir, 'run');
  const trained = bee('train', ...split, '--width', '0.25', '--epochs', '6', '--no-augment', '--seed', '2', '--out', run, '--json');
  assert.equal(trained.status, 0, trained.stderr);
  model = path.join(dir, 'tones.bee');
  assert.equal(bee('export', '--model', run, '--out', model).status, 0);
  const stream = bee('data', 'stream', ...split, '--split', 'test', '--noise-gain', '0.5', '--gap', '0.5,1.5', '--out', path.join(dir, 'stream.wav'), '--json');
  assert.equal(stream.status, 0, stream.stderr);
});

test('bee listen scores a synthesized stream with known truth', () => {
  const r = bee('listen', path.join(dir, 'stream.wav'), '--model', model, '--truth', path.join(dir, 'stream.csv'), '--roc', path.join(dir, 'roc'), '--json');
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const summary = lines.at(-1);
  assert.equal(summary.type, 'summary');
  const truth = parseTruthCsv(fs.readFileSync(path.join(dir, 'stream.csv'), 'utf8'), 'stream.csv');
  assert.equal(summary.words, truth.length);
  assert.ok(summary.hits >= truth.length / 2, `${summary.hits} of ${truth.length} tones detected`);
  assert.equal(summary.hits + summary.misses, summary.words);
  assert.equal(lines.filter((l) => l.type === 'detection').length, summary.detections);
  assert.equal(
    summary.windowsPerExit.reduce((a: number, b: number) => a + b, 0),
    summary.windows,
  );
  assert.ok(summary.computeShare > 0 && summary.computeShare <= 1);
  assert.ok(summary.realTimeFactor > 1 && summary.meanDelayMs > 0);
  const { sampleRate, samples } = readWav(path.join(dir, 'stream.wav'));
  assert.equal(summary.durationSeconds, samples.length / sampleRate);
  const roc = JSON.parse(fs.readFileSync(path.join(dir, 'roc', 'roc.json'), 'utf8'));
  assert.equal(roc.length, 19);
  assert.deepEqual(
    roc.map((p: { minConfidence: number }) => p.minConfidence),
    Array.from({ length: 19 }, (_, i) => Math.round(100 * (0.05 + 0.05 * i)) / 100),
  );
  const at = roc.find((p: { minConfidence: number }) => p.minConfidence === 0.7);
  assert.equal(at.hits, summary.hits, 'the ROC point of the run threshold is the run');
  assert.match(fs.readFileSync(path.join(dir, 'roc', 'roc.svg'), 'utf8'), /^<svg/);
});

test('bee listen - reads raw PCM from a slow pipe, in small pieces, as from arecord, and ends mid-window with its summary', async () => {
  const wav = path.join(dir, 'stream.wav');
  const { samples } = readWav(wav);
  const pcm = Buffer.alloc(2 * Math.min(samples.length, 16000 * 8 + 1234)); // 8 s and a part of a window
  for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(samples[i] * 32767), 2 * i);
  const child = spawn(process.execPath, [BEE, 'listen', '-', '--model', model, '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  // pieces of 1-999 bytes (sample frames split), 2 ms apart
  for (let at = 0, k = 0; at < pcm.length; k++) {
    const n = 1 + ((k * 379) % 999);
    child.stdin.write(pcm.subarray(at, at + n));
    at += n;
    await new Promise((r) => setTimeout(r, 2));
  }
  child.stdin.end();
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 0, err);
  const summary = JSON.parse(out.trim().split('\n').at(-1)!);
  assert.equal(summary.durationSeconds, pcm.length / 2 / 16000);
  // the same windows as the WAV read whole: 1 s windows every 100 ms that fit
  assert.equal(summary.windows, Math.floor((pcm.length / 2 - 16000) / 1600) + 1);
});

test('bee listen: bad input is a one-line error', () => {
  const junk = path.join(dir, 'junk.wav');
  fs.writeFileSync(junk, 'not a wav at all');
  assertOneLineError(bee('listen', junk, '--model', model), /junk\.wav: not a WAV file/);
  assertOneLineError(bee('listen', '-', '--model', model, '--rate', '44100'), /stdin at 44100 Hz: the model reads 16000 Hz/);
  assertOneLineError(
    bee('listen', path.join(dir, 'stream.wav'), '--model', model, '--hop', '25'),
    /--hop 25: the model's frames are 10 ms apart, and a hop must be a whole number of them/,
  );
  assertOneLineError(bee('listen', path.join(dir, 'stream.wav'), '--model', model, '--truth', junk), /junk\.wav: not a truth file/);
  const piped = spawnSync(process.execPath, [BEE, 'listen', '-', '--model', model], { input: fs.readFileSync(path.join(dir, 'stream.wav')), encoding: 'utf8' });
  assertOneLineError(piped, /stdin holds a WAV file, not raw PCM/);
});

test('bee listen -: a stream cut inside a sample frame gives its summary, then a one-line error', async () => {
  const child = spawn(process.execPath, [BEE, 'listen', '-', '--model', model, '--json'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b) => (out += b));
  child.stderr.on('data', (b) => (err += b));
  child.stdin.end(Buffer.alloc(2 * 20000 + 1));
  const code = await new Promise((r) => child.on('close', r));
  assert.equal(code, 1);
  assert.equal(JSON.parse(out.trim().split('\n').at(-1)!).type, 'summary');
  assert.match(err, /^bee: stdin ended inside a sample frame \(1 stray bytes\)/);
  assert.equal(err.trim().split('\n').length, 1);
});
