import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import type { BatchNorm } from '../model/batch-norm.js';
import { QuantActivation, type QuantConv2D } from '../model/layers.js';
import { bodyFilters, RESIDUAL_FAMILIES } from '../spec/families.js';
import { layerName } from '../spec/layer-names.js';
import { channelScale, quantizer } from '../model/quantizers.js';
import type { ModelMeta } from '../spec/model-meta.js';
import { BEE_VERSION } from '../version.js';
import { floatKey, keyFloat } from '../engine/float-order.js';
import { hiddenUnits, type PackedArray, type PackedHeader, type PackedModel, words } from '../engine/format.js';

/** What packing found. */
export interface PackReport {
  /** channels whose BatchNorm + sign is the same for every input the layer can see */
  constantChannels: number;
}

interface SignFold {
  thresholds: PackedArray;
  flips: Uint32Array;
  constant: number;
}

/** What a sign activation sees, per channel, for rows of per-channel values [rows][channels] of the layer before it. */
type SignInput = (values: Float32Array, channels: number) => Float32Array;

/**
 * The value a sign reads as TensorFlow computes it at inference: the convolution's per-channel
 * scale (magnitude_aware_sign; the dot product times alpha_c, rounded to float32), the
 * BatchNorm, and the activation's learnable shift (RSign), each by TensorFlow's own ops.
 */
function signInput(model: tf.LayersModel, bn: string, act: string | null, alpha: Float32Array | null): SignInput {
  const layer = model.getLayer(bn);
  const activation = act ? model.getLayer(act) : null;
  const shift = activation instanceof QuantActivation && activation.shift ? activation.getWeights()[0] : null;
  return (values, channels) =>
    tf.tidy(() => {
      let x: tf.Tensor = tf.tensor4d(values, [values.length / channels, 1, 1, channels]);
      if (alpha) x = tf.mul(x, tf.tensor1d(alpha));
      let y = layer.apply(x, { training: false }) as tf.Tensor;
      if (shift) y = tf.sub(y, shift);
      return y.dataSync() as Float32Array;
    });
}

/** A binary convolution's per-output-channel scale, or null where its kernel is plain ±1. */
function kernelScale(model: tf.LayersModel, name: string): Float32Array | null {
  const layer = model.getLayer(name) as QuantConv2D;
  if (layer.kernelQuantizer?.name !== 'magnitude_aware_sign') return null;
  return tf.tidy(() => channelScale(layer.getWeights()[0]).dataSync() as Float32Array);
}

/** The kernel a convolution computes with (its quantizer applied), [kh][kw][in][out]. */
function effectiveKernel(model: tf.LayersModel, name: string): Float32Array {
  const layer = model.getLayer(name) as QuantConv2D;
  const q = quantizer(layer.kernelQuantizer);
  return tf.tidy(() => {
    const k = layer.getWeights()[0];
    return (q ? q(k) : k).dataSync() as Float32Array;
  });
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
function foldIntegerSign(name: string, signOf: SignInput, channels: number, n: number): SignFold {
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
function foldFloatSign(signOf: SignInput, channels: number): SignFold {
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

function weightsOf(model: tf.LayersModel, name: string): Float32Array[] {
  return model
    .getLayer(name)
    .getWeights()
    .map((w) => w.dataSync() as Float32Array);
}

/**
 * Sign bits of a (kh x kw) kernel [kh][kw][in][out] with one spatial axis of length `taps`, packed
 * [out][tap][input word]. `segment` splits the input channels into segments that each start on a
 * word (the (1x1) conv's input is the (1x3) and (3x1) outputs side by side).
 */
function packSigns(kernel: Float32Array, inChannels: number, out: number, taps: number, segment = inChannels): Uint32Array {
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
 * Packs a trained binary network: sign bits of every binary kernel (the first block's pair as
 * float32 kernels), each scale + BatchNorm + shift + sign folded into thresholds and flips, the
 * exit heads and the exits' BatchNorm (times the kernel scale) kept in float32.
 */
export function packModel(model: tf.LayersModel, meta: ModelMeta, dir?: string): { packed: PackedModel; report: PackReport } {
  const { network } = meta;
  if (network.precision !== 'binary')
    throw new BeeError(`a ${network.precision} network has nothing binary to pack`, { file: dir, hint: 'train with --precision binary' });
  if (RESIDUAL_FAMILIES[network.arch])
    return { packed: { header: packedHeader(meta), tensors: packResidual(model, network) }, report: { constantChannels: 0 } };
  const tensors = new Map<string, PackedArray>();
  const report: PackReport = { constantChannels: 0 };
  const putSign = (name: string, fold: SignFold) => {
    tensors.set(`${name}.thresholds`, fold.thresholds);
    tensors.set(`${name}.flips`, fold.flips);
    report.constantChannels += fold.constant;
  };
  const blocks = network.filters.length;
  network.filters.forEach((f, i) => {
    const b = i + 1;
    const inChannels = b === 1 ? 1 : network.filters[i - 1];
    for (const [conv, bn, act, key] of [
      [layerName.conv13(b), layerName.bn13(b), layerName.act13(b), 'conv1x3'],
      [layerName.conv31(b), layerName.bn31(b), layerName.act31(b), 'conv3x1'],
    ] as const) {
      if (b === 1) {
        // [tap][out] -> [out][tap]: scales and real weights are in these floats already
        const k = effectiveKernel(model, conv);
        tensors.set(
          `block1.${key}.kernel`,
          Float32Array.from({ length: f * 3 }, (_, j) => k[(j % 3) * f + Math.floor(j / 3)]),
        );
        putSign(`block1.${key}`, foldFloatSign(signInput(model, bn, act, null), f));
      } else {
        tensors.set(`block${b}.${key}.signs`, packSigns(weightsOf(model, conv)[0], inChannels, f, 3));
        putSign(`block${b}.${key}`, foldIntegerSign(bn, signInput(model, bn, act, kernelScale(model, conv)), f, 3 * inChannels));
      }
    }
    tensors.set(`block${b}.conv1x1.signs`, packSigns(weightsOf(model, layerName.conv11(b))[0], 2 * f, f, 1, f));

    const alpha = kernelScale(model, layerName.conv11(b));
    putSign(`block${b}.bn`, foldIntegerSign(layerName.bn(b), signInput(model, layerName.bn(b), b < blocks ? layerName.act(b) : null, alpha), f, 2 * f));
    putAffine(tensors, `block${b}.bn`, batchNormAffine(model, layerName.bn(b), alpha));
    putExit(tensors, model, network, b);
  });
  return { packed: { header: packedHeader(meta), tensors }, report };
}

/**
 * A BatchNorm as its layer computes it at inference, x * scale + shift (BatchNorm.inferenceAffine:
 * the same float32 tensors). The block engine's exit heads fold a kernel scale alpha into scale
 * (there within float32 ulps of TensorFlow, whose round(alpha * dot) comes first); the residual
 * engine keeps alpha apart and matches it bit for bit.
 */
function batchNormAffine(model: tf.LayersModel, name: string, alpha: Float32Array | null = null): { scale: Float32Array; shift: Float32Array } {
  const { scale, shift } = (model.getLayer(name) as BatchNorm).inferenceAffine();
  const [s, t] = [scale.dataSync() as Float32Array, shift.dataSync() as Float32Array];
  tf.dispose([scale, shift]);
  return { scale: alpha ? s.map((v, c) => v * alpha[c]) : s, shift: t };
}

function putAffine(tensors: Map<string, PackedArray>, name: string, affine: { scale: Float32Array; shift: Float32Array }): void {
  tensors.set(`${name}.scale`, affine.scale);
  tensors.set(`${name}.shift`, affine.shift);
}

/**
 * A BatchNorm y = x * scale + shift on a dense layer's inputs, folded into it: W'[i][o] =
 * scale[i] W[i][o], b'[o] = b[o] + sum_i shift[i] W[i][o] (in float64), so that the packed
 * format and engines run it as the one dense layer they know.
 */
function foldInputAffine(kernel: Float32Array, bias: Float32Array, affine: { scale: Float32Array; shift: Float32Array }): Float32Array[] {
  const units = bias.length;
  const folded = new Float64Array(bias);
  affine.shift.forEach((t, i) => {
    for (let o = 0; o < units; o++) folded[o] += t * kernel[i * units + o];
  });
  return [kernel.map((w, k) => w * affine.scale[Math.floor(k / units)]), Float32Array.from(folded)];
}

function putExit(tensors: Map<string, PackedArray>, model: tf.LayersModel, network: ModelMeta['network'], b: number): void {
  if (hiddenUnits(network.exitHead)) {
    let [hiddenKernel, hiddenBias] = weightsOf(model, layerName.exitHidden(b));
    if (network.exitHead.type === 'pooled' && network.exitHead.norm)
      [hiddenKernel, hiddenBias] = foldInputAffine(hiddenKernel, hiddenBias, batchNormAffine(model, layerName.exitHiddenBn(b)));
    tensors.set(`exit${b}.hidden.kernel`, hiddenKernel);
    tensors.set(`exit${b}.hidden.bias`, hiddenBias);
  }
  const [kernel, bias] = weightsOf(model, layerName.exit(b));
  tensors.set(`exit${b}.kernel`, kernel);
  tensors.set(`exit${b}.bias`, bias);
}

/**
 * Packs a residual network (bireal, reactnet): sign bits of every binary kernel, each sign's
 * threshold (RSign's shift), every binary kernel's scale, every BatchNorm as scale and shift,
 * RPReLU's weights, the stem's and the shortcuts' real kernels, the exit heads.
 * Real activations stay real: nothing to fold into integer thresholds.
 */
function packResidual(model: tf.LayersModel, network: ModelMeta['network']): Map<string, PackedArray> {
  const tensors = new Map<string, PackedArray>();
  const threshold = (act: string, channels: number) => {
    const layer = model.getLayer(act);
    return layer instanceof QuantActivation && layer.shift ? weightsOf(model, act)[0] : new Float32Array(channels);
  };
  const rprelu = (layer: string, name: string) => {
    if (!model.layers.some((l) => l.name === layer)) return;
    const [gamma, slope, zeta] = weightsOf(model, layer);
    tensors.set(`${name}.rprelu.gamma`, gamma);
    tensors.set(`${name}.rprelu.slope`, slope);
    tensors.set(`${name}.rprelu.zeta`, zeta);
  };
  /** A binary convolution's kernel scale (1 where its kernel is plain ±1) and its BatchNorm, apart: TensorFlow rounds each. */
  const putBinaryAffine = (name: string, conv: string, bn: string, f: number) => {
    tensors.set(`${name}.alpha`, kernelScale(model, conv) ?? new Float32Array(f).fill(1));
    putAffine(tensors, name, batchNormAffine(model, bn));
  };
  network.filters.forEach((f, i) => {
    const b = i + 1;
    const c = bodyFilters(network, b);
    if (b === 1) {
      const k = effectiveKernel(model, layerName.stem(1)); // [tap][1][C] -> [C][tap]
      tensors.set(
        'block1.stem.kernel',
        Float32Array.from({ length: c * 9 }, (_, j) => k[(j % 9) * c + Math.floor(j / 9)]),
      );
      putAffine(tensors, 'block1.stem', batchNormAffine(model, layerName.stemBn(1)));
    }
    tensors.set(`block${b}.conv1x1.threshold`, threshold(layerName.act11(b), c));
    tensors.set(`block${b}.conv1x1.signs`, packSigns(weightsOf(model, layerName.conv11(b))[0], c, f, 1));
    putBinaryAffine(`block${b}.conv1x1`, layerName.conv11(b), layerName.bn(b), f);
    if (RESIDUAL_FAMILIES[network.arch]!.shortcut === 'conv') {
      tensors.set(`block${b}.shortcut.kernel`, weightsOf(model, layerName.shortcutConv(b))[0]);
      putAffine(tensors, `block${b}.shortcut`, batchNormAffine(model, layerName.shortcutBn(b)));
    }
    rprelu(layerName.rprelu(b), `block${b}`);
    for (const [conv, bn, act, rp, key] of [
      [layerName.conv13(b), layerName.bn13(b), layerName.act13(b), layerName.rprelu13(b), 'conv1x3'],
      [layerName.conv31(b), layerName.bn31(b), layerName.act31(b), layerName.rprelu31(b), 'conv3x1'],
    ] as const) {
      tensors.set(`block${b}.${key}.threshold`, threshold(act, f));
      tensors.set(`block${b}.${key}.signs`, packSigns(weightsOf(model, conv)[0], f, f, 3));
      putBinaryAffine(`block${b}.${key}`, conv, bn, f);
      rprelu(rp, `block${b}.${key}`);
    }
    putExit(tensors, model, network, b);
  });
  return tensors;
}

/** The header a model's packed file carries: what bee.json says of it that running it needs. */
export function packedHeader(meta: ModelMeta): PackedHeader {
  const { network } = meta;
  return {
    labels: meta.labels,
    features: meta.features,
    network: {
      arch: network.arch,
      inputShape: network.inputShape,
      classes: network.classes,
      filters: network.filters,
      exitHead: network.exitHead,
      realFirstBlock: network.realFirstBlock,
      scaledKernels: network.scaledKernels,
      signShift: network.signShift,
    },
    temperatures: meta.calibration?.temperatures ?? network.filters.map(() => 1),
    ...(meta.data ? { data: meta.data } : {}),
    ...(meta.stream ? { stream: meta.stream } : {}),
    beeVersion: BEE_VERSION,
  };
}
