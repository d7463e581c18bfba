import { floatKey, keyFloat } from '../engine/float-order.js';
import { type PackedArray, words } from '../engine/format.js';

// The converter's folds: each turns one pattern of trained layers into what the packed engine
// computes instead (a BatchNorm + sign into a threshold and a flip, a kernel into sign bits, a
// BatchNorm before a dense layer into the layer). Pure functions of arrays, so that each is tested
// alone (test/folds.test.ts); read-layers.ts reads the arrays out of TensorFlow's layers, and the
// body packers (pack-block.ts, pack-residual.ts) compose the folds stage by stage.

export interface SignFold {
  thresholds: PackedArray;
  flips: Uint32Array;
  constant: number;
}

/** What a sign activation sees, per channel, for rows of per-channel values [rows][channels] of the layer before it. */
export type SignInput = (values: Float32Array, channels: number) => Float32Array;

/** A per-channel affine map, x * scale + shift: a BatchNorm at inference. */
export interface Affine {
  scale: Float32Array;
  shift: Float32Array;
}

/**
 * A monotonic sign as bit = (x >= threshold) XOR flip, from where it first differs from its value
 * at the bottom of the input range (`at`: null if never, so the bit is a constant).
 */
function setSign(fold: SignFold, c: number, bottom: boolean, at: number | null, always: number): void {
  fold.thresholds[c] = at ?? always;
  if (at === null ? !bottom : bottom) fold.flips[c >> 5] |= 1 << (c & 31);
  if (at === null) fold.constant++;
}

/**
 * BatchNorm + sign of an integer input (a ±1 dot product in [-n, n]) as an int16 threshold and a
 * flip. Found by running TensorFlow's own BatchNorm on every integer in range, so the engine's
 * bits are TensorFlow's, rounding and ties included. (With a kernel scale, TensorFlow sums
 * ±alpha in float32, which may round k * alpha differently from the fold's fround(alpha * k):
 * then a dot product exactly at a threshold may differ, by float32 ulps.) Float32 BatchNorm is monotonic in x (each
 * step is a correctly rounded monotonic operation), so one threshold per channel says it all.
 */
export function foldIntegerSign(name: string, signOf: SignInput, channels: number, n: number): SignFold {
  const count = 2 * n + 1;
  const inputs = new Float32Array(count * channels);
  for (let i = 0; i < count; i++) inputs.fill(i - n, i * channels, (i + 1) * channels);
  const outputs = signOf(inputs, channels);
  const fold: SignFold = { thresholds: new Int16Array(channels), flips: new Uint32Array(words(channels)), constant: 0 };
  for (let c = 0; c < channels; c++) {
    const bottom = outputs[c] >= 0;
    let at: number | null = null;
    for (let i = 1; i < count; i++) {
      const bit = outputs[i * channels + c] >= 0;
      if (at === null && bit !== bottom) at = i - n;
      else if (at !== null && bit === bottom) throw new Error(`${name}: BatchNorm + sign of channel ${c} is not monotonic`);
    }
    setSign(fold, c, bottom, at, -32768); // x >= -32768 always holds: the flip alone sets the bit
  }
  return fold;
}

/**
 * BatchNorm + sign of the first block's real-valued convolutions as a float32 threshold and a
 * flip: for each channel, a bisection over the float32s in [-LIMIT, LIMIT] with TensorFlow's own
 * BatchNorm finds the first float whose sign differs from the bottom's. |x| stays far below LIMIT:
 * three log-mel values of magnitude at most ~30 times weights of magnitude ~1 (clipped to [-1, 1]
 * where binary; real first-block weights are not clipped, but trained they stay within a few
 * units). Exact: the BatchNorm is the layer's own, and the convolution of the one-channel input
 * is summed tap by tap, as the engine sums it (QuantConv2D's tapConv).
 */
export function foldFloatSign(signOf: SignInput, channels: number): SignFold {
  const LIMIT = 1e4;
  const ends = signOf(
    new Float32Array(2 * channels).map((_, i) => (i < channels ? -LIMIT : LIMIT)),
    channels,
  );
  const low = new Float64Array(channels).fill(floatKey(-LIMIT));
  const high = new Float64Array(channels).fill(floatKey(LIMIT));
  const bottom = Array.from({ length: channels }, (_, c) => ends[c] >= 0);
  const probe = new Float32Array(channels);
  for (let step = 0; step < 40; step++) {
    for (let c = 0; c < channels; c++) probe[c] = keyFloat(Math.floor((low[c] + high[c]) / 2));
    const y = signOf(probe, channels);
    for (let c = 0; c < channels; c++) {
      if (high[c] - low[c] <= 1) continue;
      if (y[c] >= 0 === bottom[c]) low[c] = floatKey(probe[c]);
      else high[c] = floatKey(probe[c]);
    }
  }
  const fold: SignFold = { thresholds: new Float32Array(channels), flips: new Uint32Array(words(channels)), constant: 0 };
  for (let c = 0; c < channels; c++) setSign(fold, c, bottom[c], ends[channels + c] >= 0 === bottom[c] ? null : keyFloat(high[c]), -Infinity);
  return fold;
}

/**
 * Sign bits of a (kh x kw) kernel [kh][kw][in][out] with one spatial axis of length `taps`, packed
 * [out][tap][input word]. `segment` splits the input channels into segments that each start on a
 * word (the (1x1) conv's input is the (1x3) and (3x1) outputs side by side).
 */
export function packSigns(kernel: Float32Array, inChannels: number, out: number, taps: number, segment = inChannels): Uint32Array {
  const segmentWords = words(segment);
  const inWords = segmentWords * Math.ceil(inChannels / segment);
  const signs = new Uint32Array(out * taps * inWords);
  for (let t = 0; t < taps; t++) {
    for (let c = 0; c < inChannels; c++) {
      const word = Math.floor(c / segment) * segmentWords + ((c % segment) >> 5);
      const bit = 1 << ((c % segment) & 31);
      // sign(0) = +1, as the quantizer's
      for (let o = 0; o < out; o++) if (kernel[(t * inChannels + c) * out + o] >= 0) signs[(o * taps + t) * inWords + word] |= bit;
    }
  }
  return signs;
}

/**
 * A BatchNorm y = x * scale + shift on a dense layer's inputs, folded into it: W'[i][o] =
 * scale[i] W[i][o], b'[o] = b[o] + sum_i shift[i] W[i][o] (in float64), so that the packed
 * format and engines run it as the one dense layer they know.
 */
export function foldInputAffine(kernel: Float32Array, bias: Float32Array, affine: Affine): Float32Array[] {
  const units = bias.length;
  const folded = new Float64Array(bias);
  affine.shift.forEach((t, i) => {
    for (let o = 0; o < units; o++) folded[o] += t * kernel[i * units + o];
  });
  return [kernel.map((w, k) => w * affine.scale[Math.floor(k / units)]), Float32Array.from(folded)];
}

export function putAffine(tensors: Map<string, PackedArray>, name: string, affine: Affine): void {
  tensors.set(`${name}.scale`, affine.scale);
  tensors.set(`${name}.shift`, affine.shift);
}

/** A real kernel [tap][out] (one input channel) as the engine reads it, [out][tap]. */
export function outputMajor(kernel: Float32Array, taps: number, out: number): Float32Array {
  return Float32Array.from({ length: out * taps }, (_, j) => kernel[(j % taps) * out + Math.floor(j / taps)]);
}

/** What a body packer (pack-block.ts, pack-residual.ts) makes of a network's stages. */
export interface PackedBody {
  tensors: Map<string, PackedArray>;
  /** channels whose BatchNorm + sign is the same for every input the layer can see */
  constantChannels: number;
}
