import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resample, StreamingResampler } from '../src/audio/resample.ts';
import { sine } from './helpers/wav.ts';

/** Amplitude of the component at `frequency` (Hz), by correlation over the middle of the signal. */
function amplitudeAt(x: Float32Array, rate: number, frequency: number): number {
  const from = Math.floor(x.length / 4);
  const to = Math.floor((3 * x.length) / 4);
  let re = 0;
  let im = 0;
  for (let i = from; i < to; i++) {
    re += x[i] * Math.cos((2 * Math.PI * frequency * i) / rate);
    im += x[i] * Math.sin((2 * Math.PI * frequency * i) / rate);
  }
  return (2 * Math.hypot(re, im)) / (to - from);
}

/** Frequency from the spacing of upward zero crossings (linear interpolation between samples). */
function zeroCrossingFrequency(x: Float32Array, rate: number): number {
  const crossings: number[] = [];
  for (let i = 1; i < x.length; i++) if (x[i - 1] < 0 && x[i] >= 0) crossings.push(i - 1 + -x[i - 1] / (x[i] - x[i - 1]));
  const inner = crossings.slice(2, -2);
  return (rate * (inner.length - 1)) / (inner[inner.length - 1] - inner[0]);
}

test('8 kHz -> 16 kHz keeps a 1 kHz sine: frequency, amplitude, no image at 7 kHz', () => {
  const out = resample(sine(1000, 8000, 1, 0.5), 8000, 16000);
  assert.equal(out.length, 16000);
  assert.ok(Math.abs(zeroCrossingFrequency(out, 16000) - 1000) < 0.05, `frequency ${zeroCrossingFrequency(out, 16000)}`);
  assert.ok(Math.abs(amplitudeAt(out, 16000, 1000) - 0.5) < 0.005);
  assert.ok(amplitudeAt(out, 16000, 7000) < 0.5e-3, `image at 7 kHz: ${amplitudeAt(out, 16000, 7000)}`);
});

test('44.1 kHz -> 16 kHz keeps 3 kHz and removes 10 kHz instead of aliasing it to 6 kHz', () => {
  const a = sine(3000, 44100, 1, 0.4);
  const b = sine(10000, 44100, 1, 0.4);
  const mixed = a.map((x, i) => x + b[i]);
  const out = resample(mixed, 44100, 16000);
  assert.equal(out.length, 16000);
  assert.ok(Math.abs(amplitudeAt(out, 16000, 3000) - 0.4) < 0.004);
  assert.ok(amplitudeAt(out, 16000, 6000) < 0.4e-3, `alias at 6 kHz: ${amplitudeAt(out, 16000, 6000)}`);
});

test('48 kHz -> 16 kHz: a 440 Hz tone keeps its frequency; a constant stays constant', () => {
  const out = resample(sine(440, 48000, 0.5), 48000, 16000);
  assert.ok(Math.abs(zeroCrossingFrequency(out, 16000) - 440) < 0.05);
  const dc = resample(new Float32Array(4800).fill(0.25), 48000, 16000);
  for (let i = 200; i < dc.length - 200; i++) assert.ok(Math.abs(dc[i] - 0.25) < 1e-6);
});

test('same rate is the identity; bad rates are refused', () => {
  const x = sine(100, 16000, 0.01);
  assert.equal(resample(x, 16000, 16000), x);
  assert.throws(() => resample(x, 0, 16000), RangeError);
  assert.throws(() => resample(x, 16000.5, 16000), RangeError);
});

test('resampling a block at a time gives the samples of resampling the whole signal', () => {
  const signal = Float32Array.from({ length: 7919 }, (_, i) => Math.sin(i / 5) * Math.cos(i / 77) + 0.1 * Math.sin(i * 1.3));
  for (const [from, to] of [
    [44100, 16000],
    [8000, 16000],
    [48000, 16000],
    [22050, 16000],
  ]) {
    const whole = resample(signal, from, to);
    const streaming = new StreamingResampler(from, to);
    const parts: number[] = [];
    for (let at = 0, k = 0; at < signal.length; k++) {
      const n = 1 + ((k * 733) % 1601); // blocks of 1-1601 samples
      parts.push(...streaming.push(signal.subarray(at, at + n)));
      at += n;
    }
    parts.push(...streaming.end());
    assert.equal(parts.length, whole.length, `${from} -> ${to}: length`);
    assert.ok(
      parts.every((x, i) => x === whole[i]),
      `${from} -> ${to}: every sample bit-exact`,
    );
  }
  const same = new StreamingResampler(16000, 16000);
  assert.equal(same.push(signal), signal);
  assert.equal(same.end().length, 0);
});

test('an awkward rate pair (767,999 Hz) gets a bounded filter and still a clean sine, whole or a block at a time', () => {
  const from = 767999;
  const input = Float32Array.from({ length: from / 4 }, (_, i) => Math.sin((2 * Math.PI * 440 * i) / from));
  const before = process.memoryUsage().rss;
  const out = resample(input, from, 16000);
  assert.ok(process.memoryUsage().rss - before < 100 * 2 ** 20, 'no 300 MB filter table');
  assert.equal(out.length, Math.round((input.length * 16000) / from));
  // away from the edges, the 440 Hz sine at 16 kHz within -60 dB
  let error = 0;
  for (let k = 400; k < out.length - 400; k++) error = Math.max(error, Math.abs(out[k] - Math.sin((2 * Math.PI * 440 * k) / 16000)));
  assert.ok(error < 1e-3, `max error ${error}`);
  const streaming = new StreamingResampler(from, 16000);
  const parts: number[] = [];
  for (let at = 0; at < input.length; at += 7777) parts.push(...streaming.push(input.subarray(at, at + 7777)));
  parts.push(...streaming.end());
  assert.ok(parts.length === out.length && parts.every((x, i) => x === out[i]), 'the same samples a block at a time');
});
