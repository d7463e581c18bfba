import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import FFT from 'fft.js';
import { readWav } from '../src/audio/wav.ts';
import { eigenCosF32 } from '../src/features/eigen-cos.ts';
import { fitToLength, LogMel } from '../src/features/logmel.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { fftPasses } from '../src/features/rfft32.ts';
import { MelSpectrum } from '../src/features/spectrum.ts';
import { crc32 } from '../src/engine/crc32.ts';
import { compareGolden } from '../scripts/compare-logmel.ts';

const fixtures = path.join(import.meta.dirname, 'fixtures');

test('log-mel equals TensorFlow 2.21 within 1e-3 on every value (golden fixtures)', () => {
  const { clips } = compareGolden(path.join(fixtures, 'golden-logmel.json'));
  assert.deepEqual(clips.map((c) => c.clip).sort(), ['go-short-odd.wav', 'quiet-noisy.wav', 'stop-long.wav', 'yes-16k.wav']);
  const odd = clips.find((c) => c.clip === 'go-short-odd.wav')!;
  assert.ok(odd.samples < 16000 && odd.samples % 2 === 1, 'a short clip with an odd number of samples is covered');
  assert.ok(
    clips.some((c) => c.samples > 16000),
    'a clip longer than 1 s is covered',
  );
  for (const c of clips) {
    assert.deepEqual(c.shape, [98, 64]);
    assert.ok(c.maxAbsDiff < 1e-3, `${c.clip}: max |diff| ${c.maxAbsDiff}`);
  }
});

test('features are bit for bit those of the float32 replay in JavaScript that the WebAssembly one replaced (CRC-32 of each fixture)', () => {
  // Computed by bee 0.2's JavaScript transform (af4a00f): a feature cache from before stays valid.
  const expected: Record<string, number> = {
    'go-short-odd.wav': 0xea033094,
    'quiet-noisy.wav': 0x916eeb90,
    'stop-long.wav': 0x255832b1,
    'yes-16k.wav': 0x64196415,
  };
  const logMel = new LogMel(PAPER_FEATURES);
  for (const [clip, crc] of Object.entries(expected)) {
    const { data } = logMel.fromAudio(readWav(path.join(fixtures, clip)));
    assert.equal(crc32(new Uint8Array(data.buffer)), crc, clip);
  }
});

test("a clip's frames one at a time equal the clip's features", () => {
  const logMel = new LogMel(PAPER_FEATURES);
  const samples = fitToLength(readWav(path.join(fixtures, 'yes-16k.wav')).samples, 16000);
  const whole = logMel.compute(samples).data;
  const frame = new Float32Array(64);
  for (const f of [0, 1, 50, 97]) {
    logMel.frameInto(samples, f * 160, frame, 0);
    assert.deepEqual(frame, whole.subarray(f * 64, (f + 1) * 64), `frame ${f}`);
  }
});

test('centre padding puts floor(deficit / 2) zeros first; centre crop starts at floor(excess / 2)', () => {
  assert.deepEqual(Array.from(fitToLength(Float32Array.of(1, 2, 3), 6)), [0, 1, 2, 3, 0, 0]);
  assert.deepEqual(Array.from(fitToLength(Float32Array.of(1, 2, 3, 4, 5), 2)), [2, 3]);
  assert.deepEqual(Array.from(fitToLength(Float32Array.of(1, 2, 3, 4, 5, 6), 3)), [2, 3, 4]);
});

test('features of a clip: 98 x 64; a silent clip is log(1e-6) everywhere', () => {
  const logMel = new LogMel(PAPER_FEATURES);
  const silent = logMel.compute(new Float32Array(12345));
  assert.equal(silent.frames, 98);
  assert.equal(silent.melBins, 64);
  for (const v of silent.data) assert.equal(v, Math.fround(Math.log(1e-6)));
  const yes = logMel.fromAudio(readWav(path.join(fixtures, 'yes-16k.wav')));
  assert.equal(yes.data.length, 98 * 64);
});

test('the float32 FFTPACK transform agrees with fft.js (an independent FFT) to float32 precision', () => {
  for (const n of [2, 8, 32, 512, 1024]) {
    const x = Array.from({ length: n }, (_, i) => Math.fround(Math.sin(i * 0.37) + 0.3 * Math.cos(i * 1.7) + (i % 7) / 10));
    const ours = new MelSpectrum(new Float32Array(n).fill(1), n, { start: new Int32Array(0), weights: [] }, n, 1).magnitudes(x);
    const fft = new FFT(n);
    const spectrum = fft.createComplexArray();
    fft.realTransform(spectrum, x);
    const scale = Math.max(...ours);
    for (let k = 0; k <= n / 2; k++) {
      const expected = Math.hypot(spectrum[2 * k], spectrum[2 * k + 1]);
      assert.ok(Math.abs(ours[k] - expected) <= 1e-6 * scale * Math.log2(n), `n=${n} k=${k}: ${ours[k]} vs ${expected}`);
    }
  }
  assert.throws(() => fftPasses(1000), RangeError);
});

test("Eigen's float32 cosine stays within 2 ulp of the true cosine", () => {
  for (let i = 0; i <= 4000; i++) {
    const x = Math.fround(-20 + i * 0.01);
    const exact = Math.cos(x);
    const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(exact), 1e-30))) - 23);
    assert.ok(Math.abs(eigenCosF32(x) - exact) <= 2 * ulp + 1e-12, `cos(${x})`);
  }
});
