import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { readWav } from '../src/audio/wav.ts';
import { Detector, type WindowAnswer } from '../src/stream/detector.ts';
import { PcmDecoder } from '../src/stream/pcm.ts';
import { hitRateAtFalseAlarms, movedTo, ROC_CONFIDENCES } from '../src/stream/roc.ts';
import { parseTruthCsv, scoreStream } from '../src/stream/score.ts';
import { assertOneLineError, BEE, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset, writeHum } from './helpers/tones.ts';
import { encodeWav, writeWav } from './helpers/wav.ts';

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
  makeToneDataset(data, ['high', 'low', 'mid', '_unknown_'], 20, 3); // _unknown_: a 1300 Hz tone
  const split = ['--data', data, '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20'];
  const run = path.join(dir, 'run');
  const trained = bee('train', ...split, '--width', '0.25', '--epochs', '12', '--no-augment', '--seed', '2', '--out', run, '--json');
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
  assert.equal(summary.words, truth.filter((t) => t.label !== '_unknown_').length, 'the words it may report');
  assert.ok(summary.hits >= summary.words / 2, `${summary.hits} of ${summary.words} tones detected`);
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
  assert.deepEqual(
    roc.map((p: { minConfidence: number }) => p.minConfidence),
    ROC_CONFIDENCES,
  );
  assert.deepEqual(summary.hitRateAtFalseAlarmsPerHour, hitRateAtFalseAlarms(roc), 'the fixed rates are read off the ROC written');
  assert.deepEqual(Object.keys(summary.hitRateAtFalseAlarmsPerHour).sort(), ['0.5', '1', '20', '5']);
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

test('bee data stream: never over a file without --force, never inside --data; --snr sets the words against the noise', () => {
  const data = path.join(dir, 'tones');
  const split = ['--data', data, '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20'];
  const out = path.join(dir, 'again.wav');
  const clip = fs.readdirSync(path.join(data, 'high'))[0];
  const before = fs.readFileSync(path.join(data, 'high', clip));
  // pointed at a clip of the dataset it reads: refused, the clip untouched
  assertOneLineError(bee('data', 'stream', ...split, '--out', path.join(data, 'high', clip), '--force'), /inside the dataset being read/);
  assert.deepEqual(fs.readFileSync(path.join(data, 'high', clip)), before);
  // A.WAV beside A.csv, the truth of another stream: refused
  fs.writeFileSync(path.join(dir, 'again.csv'), 'start,end,label\n');
  assertOneLineError(bee('data', 'stream', ...split, '--out', out), /again\.csv: exists already/);
  assert.equal(fs.existsSync(out), false);
  assert.equal(fs.readFileSync(path.join(dir, 'again.csv'), 'utf8'), 'start,end,label\n');
  const noise = path.join(dir, 'noise');
  writeHum(path.join(noise, 'hum.wav'), 2, 0.02);
  const forced = bee('data', 'stream', ...split, '--noise-dir', noise, '--snr', '10', '--out', out, '--force', '--json');
  assert.equal(forced.status, 0, forced.stderr);
  assert.ok(JSON.parse(forced.stdout).clips > 0);
  assert.ok(parseTruthCsv(fs.readFileSync(path.join(dir, 'again.csv'), 'utf8'), 'again.csv').length > 0);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('.tmp')),
    [],
    'no temp file left',
  );
  assertOneLineError(bee('data', 'stream', ...split, '--snr', '10', '--out', path.join(dir, 'x.wav')), /--snr sets the words against the noise/);
  assertOneLineError(bee('data', 'stream', ...split, '--hours', '1', '--out', path.join(dir, 'x.wav')), /--hours sets the length of a --negatives stream/);
});

test('bee calibrate picks a stream rule on the validation split and stores it in the .bee; bee listen uses it, flags override it', () => {
  const data = path.join(dir, 'tones');
  const split = ['--data', data, '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20'];
  const calibrated = path.join(dir, 'calibrated.bee');
  fs.copyFileSync(model, calibrated);
  const noise = path.join(dir, 'noise-c');
  writeHum(path.join(noise, 'hum.wav'), 2);
  const r = bee('calibrate', '--model', calibrated, ...split, '--noise-dir', noise, '--hours', '0.01', '--false-alarms', '2000', '--json');
  assert.equal(r.status, 0, r.stderr);
  const result = JSON.parse(r.stdout);
  assert.equal(result.saved, true);
  assert.ok(result.rule.keywordExit >= 1 && result.rule.calibration.targetFalseAlarmsPerHour === 2000);
  assert.ok(result.negatives.falseAlarmsPerHour <= 2000);
  const listen = (...args: string[]) => {
    const out = bee('listen', path.join(dir, 'stream.wav'), '--model', calibrated, '--json', ...args);
    assert.equal(out.status, 0, out.stderr);
    return JSON.parse(out.stdout.trim().split('\n').at(-1)!);
  };
  const { calibration, ...rule } = result.rule;
  assert.deepEqual(listen().streamRule, rule, 'the stored rule');
  assert.deepEqual(listen('--min-confidence', '0.93', '--keyword-exit', '1').streamRule, { ...movedTo(rule, 0.93), keywordExit: 1 });
  const dry = bee('calibrate', '--model', model, ...split, '--noise-dir', noise, '--hours', '0.01', '--false-alarms', '2000', '--dry-run', '--json');
  assert.equal(dry.status, 0, dry.stderr);
  assert.equal(JSON.parse(dry.stdout).saved, false);
  assert.equal(listen2(model).streamRule.keywordExit, 1, 'a dry run leaves the model as it was: the default rule');
  assertOneLineError(
    bee('calibrate', '--model', model, ...split, '--noise-dir', noise, '--hours', '0.01', '--false-alarms', '-1'),
    /--false-alarms.*expected a finite number >= 0/,
  );
});

const listen2 = (file: string) => {
  const out = bee('listen', path.join(dir, 'stream.wav'), '--model', file, '--json');
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout.trim().split('\n').at(-1)!);
};

test('a reader that goes away ends bee quietly: bee listen --json | head -1', () => {
  // every window a detection: far more than a pipe holds, so the writes after head exits fail
  const args = [BEE, 'listen', path.join(dir, 'stream.wav'), '--model', model, '--json', '--report-all', '--suppress', '0', '--min-confidence', '0.01'];
  const r = spawnSync('bash', ['-c', `set -o pipefail; "${process.execPath}" ${args.map((a) => `'${a}'`).join(' ')} | head -1`], { encoding: 'utf8' });
  assert.equal(r.stderr, '', 'no stack trace');
  assert.equal(r.status, 0);
  assert.equal(JSON.parse(r.stdout).type, 'detection');
});

test('raw float PCM reads as a float WAV of the same samples does: clipped to [-1, 1], channels mixed alike', () => {
  const left = Float32Array.from([2, -8, 1e38, 0.5, 0.1, -0.3]);
  const right = Float32Array.from([0.25, 0.5, -1e38, 0.7, 0.2, 0.9]);
  const interleaved = Buffer.alloc(4 * 12);
  left.forEach((x, i) => {
    interleaved.writeFloatLE(x, 8 * i);
    interleaved.writeFloatLE(right[i], 8 * i + 4);
  });
  const file = path.join(dir, 'float.wav');
  // the same bytes as a WAV's data (encodeWav would clip them first)
  const wav = encodeWav({ sampleRate: 16000, bits: 32, float: true, channels: [left, right] });
  interleaved.copy(wav, wav.length - interleaved.length);
  fs.writeFileSync(file, wav);
  const fromStdin = new PcmDecoder('f32le', 2).decode(interleaved);
  assert.deepEqual([...fromStdin], [...readWav(file).samples]);
  assert.deepEqual([...new PcmDecoder('f32le', 1).decode(interleaved.subarray(0, 16))], [1, 0.25, -1, 0.5]);
});

test('bee listen --truth scores only what the model can report and the audio holds, and says what it left out', () => {
  const stream = path.join(dir, 'stream.wav');
  const truth = parseTruthCsv(fs.readFileSync(path.join(dir, 'stream.csv'), 'utf8'), 'stream.csv');
  const plain = listen2(model);
  const scoredPlain = (() => {
    const r = bee('listen', stream, '--model', model, '--truth', path.join(dir, 'stream.csv'), '--json');
    return JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  })();
  assert.equal(plain.detections, scoredPlain.detections);
  // the same truth with foreign labels (another case, another word) and rows past the end of the audio
  const extra = [`1,2,HIGH`, `3,4,banana`, `100000,100001,high`, `100002,100003,low`];
  const file = path.join(dir, 'extra.csv');
  fs.writeFileSync(file, `${fs.readFileSync(path.join(dir, 'stream.csv'), 'utf8')}${extra.join('\n')}\n`);
  const r = bee('listen', stream, '--model', model, '--truth', file, '--json');
  assert.equal(r.status, 0, r.stderr);
  const summary = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(summary.words, scoredPlain.words, 'the extra rows are not counted as misses');
  assert.equal(summary.misses, scoredPlain.misses);
  assert.equal(summary.words, truth.filter((t) => t.label !== '_unknown_').length);
  assert.match(r.stderr, /extra\.csv: 2 truth rows name labels the model has no class for \(HIGH, banana; labels are case-sensitive\): left out of the score/);
  assert.match(r.stderr, /extra\.csv: 2 truth rows start after the audio ends/);
});

test('bee listen --roc: a bad target is refused before the work; empty and short input', () => {
  const stream = path.join(dir, 'stream.wav');
  const truth = path.join(dir, 'stream.csv');
  const roc = path.join(dir, 'roc-bad');
  fs.mkdirSync(path.join(roc, 'roc.json'), { recursive: true });
  const r = bee('listen', stream, '--model', model, '--truth', truth, '--roc', roc, '--json');
  assertOneLineError(r, /roc\.json: is not a file/);
  assert.equal(r.stdout, '', 'refused before any window');
  const file = path.join(dir, 'a-file');
  fs.writeFileSync(file, 'x');
  assertOneLineError(bee('listen', stream, '--model', model, '--truth', truth, '--roc', file), /a-file/);
  // no audio: one line, not "Infinityx real time"
  assertOneLineError(spawnSync(process.execPath, [BEE, 'listen', '-', '--model', model], { input: Buffer.alloc(0), encoding: 'utf8' }), /stdin held no audio/);
  const empty = path.join(dir, 'empty.wav');
  writeWav(empty, { sampleRate: 16000, bits: 16, channels: [new Float32Array(0)] });
  assertOneLineError(bee('listen', empty, '--model', model), /empty\.wav: the WAV file holds no samples/);
  // half a second: padded to one window, as bee predict pads a short clip
  const short = path.join(dir, 'short.wav');
  writeWav(short, { sampleRate: 16000, bits: 16, channels: [readWav(stream).samples.slice(0, 8000)] });
  const s = bee('listen', short, '--model', model, '--json');
  assert.equal(s.status, 0, s.stderr);
  const summary = JSON.parse(s.stdout.trim().split('\n').at(-1)!);
  assert.equal(summary.windows, 1);
  assert.equal(summary.durationSeconds, 0.5);
});

test('Ctrl-C on bee listen -: the summary still comes, then exit code 130', async () => {
  const { samples } = readWav(path.join(dir, 'stream.wav'));
  const pcm = Buffer.alloc(2 * 16000 * 3);
  for (let i = 0; i < pcm.length / 2; i++) pcm.writeInt16LE(Math.round(samples[i] * 32767), 2 * i);
  const child = spawn(process.execPath, [BEE, 'listen', '-', '--model', model, '--json', '--report-all'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b) => (out += b));
  child.stdin.write(pcm); // and the microphone stays open
  // A loaded machine may take seconds to start bee, and Ctrl-C before its handler is a plain kill:
  // signal once it has answered (--report-all: every label, so the tones' first second is one).
  await new Promise((r) => child.stdout.once('data', r));
  await new Promise((r) => setTimeout(r, 1000));
  child.kill('SIGINT');
  const code = await new Promise((r) => child.on('close', (c) => r(c)));
  assert.equal(code, 130);
  const summary = JSON.parse(out.trim().split('\n').at(-1)!);
  assert.equal(summary.type, 'summary');
  assert.equal(summary.durationSeconds, 3);
});

test('bee data mine: the windows a model takes for keywords, none where --truth has a word; bee train --hard-negatives trains on them', () => {
  const stream = path.join(dir, 'stream.wav');
  const truthCsv = path.join(dir, 'stream.csv');
  const spoken = parseTruthCsv(fs.readFileSync(truthCsv, 'utf8'), 'stream.csv').filter((t) => t.label !== '_unknown_');
  const mined = (out: string, ...args: string[]) => {
    const r = bee('data', 'mine', stream, '--model', model, '--min-confidence', '0.3', '--out', out, '--json', ...args);
    assert.equal(r.status, 0, r.stderr);
    const index = JSON.parse(fs.readFileSync(path.join(out, 'mined.json'), 'utf8'));
    assert.equal(index.windows.length, JSON.parse(r.stdout).windows);
    assert.deepEqual(
      fs
        .readdirSync(out)
        .filter((f) => f.endsWith('.wav'))
        .sort(),
      index.windows.map((w: { file: string }) => w.file).sort(),
    );
    return { windows: index.windows as { time: number; label: string }[], candidates: JSON.parse(r.stdout).candidates as number };
  };
  const all = path.join(dir, 'mined-all');
  const everything = mined(all);
  const overlaps = (w: { time: number }) => spoken.some((s) => s.start < w.time && s.end > w.time - 1);
  assert.ok(everything.windows.filter(overlaps).length > 0, 'without --truth, the tones themselves are mined');
  const negatives = mined(path.join(dir, 'mined'), '--truth', truthCsv);
  assert.deepEqual(negatives.windows.filter(overlaps), [], 'with --truth, no window that holds a word');
  assert.ok(negatives.candidates < everything.candidates / 2, `${negatives.candidates} of ${everything.candidates} candidates hold no word`);
  assert.equal(readWav(path.join(all, fs.readdirSync(all).find((f) => f.endsWith('.wav'))!)).samples.length, 16000);
  assertOneLineError(bee('data', 'mine', stream, '--model', model, '--out', all), /mined-all: exists already/);

  const split = ['--data', path.join(dir, 'tones'), '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20'];
  const run = path.join(dir, 'run-hard');
  const trained = bee('train', ...split, '--width', '0.25', '--epochs', '1', '--no-augment', '--hard-negatives', all, '--out', run, '--json');
  assert.equal(trained.status, 0, trained.stderr);
  assert.equal(JSON.parse(fs.readFileSync(path.join(run, 'best', 'bee.json'), 'utf8')).data.hardNegatives, path.resolve(all));
  const resumed = bee('train', '--out', run, '--resume', '--epochs', '2', '--json');
  assert.equal(resumed.status, 0, `a resumed run reads the hard negatives it was trained with: ${resumed.stderr}`);
  // evaluation reads the test split, and does not need the training-only folder; resuming does
  fs.renameSync(all, `${all}-moved`);
  const evaluated = bee('eval', '--model', run, '--json');
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assertOneLineError(bee('train', '--out', run, '--resume', '--epochs', '3'), /mined-all: no such folder of hard negatives/);
  assertOneLineError(bee('train', ...split, '--hard-negatives', all, '--out', path.join(dir, 'x')), /mined-all: no such folder of hard negatives/);
});
