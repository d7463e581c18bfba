import assert from 'node:assert/strict';
import { test } from 'node:test';
import { foldFloatSign, foldInputAffine, foldIntegerSign, outputMajor, packSigns, type SignFold } from '../src/convert/folds.ts';
import { mulberry32 } from '../src/util/rng.ts';

// Each of the converter's folds alone, on arrays: no TensorFlow, no network.

/** A BatchNorm per channel, y = fround(fround(x * scale) + shift), as a sign input. */
const affineSign = (scale: number[], shift: number[]) => (values: Float32Array, channels: number) =>
  values.map((x, i) => Math.fround(Math.fround(x * scale[i % channels]) + shift[i % channels]));

const bitOf = (fold: SignFold, c: number, x: number) => x >= fold.thresholds[c] !== Boolean((fold.flips[c >> 5] >>> (c & 31)) & 1);

test('foldIntegerSign: one threshold and flip per channel give the sign of every dot product in [-n, n]', () => {
  // rising, falling, never crossing (positive, negative) and a zero scale: both flips, both constants
  const scale = [0.37, -1.3, 0.01, 0.01, 0, 2.5];
  const shift = [1.1, -0.45, 5, -5, -0.2, -0.001];
  const n = 27;
  const fold = foldIntegerSign('bn', affineSign(scale, shift), scale.length, n);
  for (let c = 0; c < scale.length; c++)
    for (let x = -n; x <= n; x++) assert.equal(bitOf(fold, c, x), Math.fround(x * scale[c]) + shift[c] >= 0, `channel ${c}, x ${x}`);
  assert.equal(fold.constant, 3); // channels 2, 3 and 4 never change sign in range
  assert.ok(fold.thresholds instanceof Int16Array);
});

test('foldIntegerSign: refuses a BatchNorm + sign that is not monotonic', () => {
  const wobbly = (values: Float32Array) => values.map((x) => (Math.abs(x) < 2 ? -1 : 1));
  assert.throws(() => foldIntegerSign('bn', wobbly, 1, 5), /not monotonic/);
});

test('foldFloatSign: the float32 threshold is the first float whose sign differs, to the last ulp', () => {
  const scale = [0.731, -2.2, 1e-3, 0];
  const shift = [-1.7, 0.3, 20, 0.5];
  const signOf = affineSign(scale, shift);
  const fold = foldFloatSign(signOf, scale.length);
  const rng = mulberry32(3);
  for (let c = 0; c < 2; c++) {
    const t = fold.thresholds[c];
    // the threshold and its neighbours, and random values on both sides
    const below = new Float32Array(new Int32Array([new Int32Array(new Float32Array([t]).buffer)[0] + (t > 0 ? -1 : 1)]).buffer)[0];
    for (const x of [t, below, ...Array.from({ length: 200 }, () => Math.fround((rng() - 0.5) * 40))]) {
      const want = signOf(Float32Array.from([0, 0, 0, 0].map((_, i) => (i === c ? x : 0))), 4)[c] >= 0;
      assert.equal(bitOf(fold, c, x), want, `channel ${c}, x ${x}`);
    }
  }
  assert.equal(fold.constant, 2); // 1e-3 x + 20 and 0 x + 0.5 stay positive within the range
  assert.ok(bitOf(fold, 2, -50) && bitOf(fold, 3, 3));
});

test('packSigns: bit c of word c/32 of [out][tap][word] is the kernel sign, each segment starting on a word', () => {
  const [taps, inChannels, out, segment] = [3, 40, 2, 20];
  const rng = mulberry32(9);
  const kernel = Float32Array.from({ length: taps * inChannels * out }, () => (rng() < 0.1 ? 0 : rng() - 0.5));
  const signs = packSigns(kernel, inChannels, out, taps, segment);
  assert.equal(signs.length, out * taps * 2);
  for (let o = 0; o < out; o++)
    for (let t = 0; t < taps; t++)
      for (let c = 0; c < inChannels; c++) {
        const word = signs[(o * taps + t) * 2 + Math.floor(c / segment)];
        assert.equal(((word >>> (c % segment)) & 1) === 1, kernel[(t * inChannels + c) * out + o] >= 0, `o ${o} t ${t} c ${c}`);
      }
});

test('foldInputAffine: the dense layer after a BatchNorm equals the folded layer alone', () => {
  const [inputs, units] = [5, 3];
  const rng = mulberry32(4);
  const kernel = Float32Array.from({ length: inputs * units }, () => rng() - 0.5);
  const bias = Float32Array.from({ length: units }, () => rng() - 0.5);
  const affine = { scale: Float32Array.from({ length: inputs }, () => 2 * rng() - 1), shift: Float32Array.from({ length: inputs }, () => rng() - 0.5) };
  const [k, b] = foldInputAffine(kernel, bias, affine);
  const x = Array.from({ length: inputs }, () => 4 * rng() - 2);
  for (let o = 0; o < units; o++) {
    const direct = bias[o] + x.reduce((s, v, i) => s + (v * affine.scale[i] + affine.shift[i]) * kernel[i * units + o], 0);
    const folded = b[o] + x.reduce((s, v, i) => s + v * k[i * units + o], 0);
    assert.ok(Math.abs(direct - folded) < 1e-5, `unit ${o}: ${direct} vs ${folded}`);
  }
});

test('outputMajor: [tap][out] becomes [out][tap]', () => {
  assert.deepEqual([...outputMajor(Float32Array.from([1, 2, 3, 4, 5, 6]), 3, 2)], [1, 3, 5, 2, 4, 6]);
});
