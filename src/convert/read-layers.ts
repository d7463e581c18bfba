import * as tf from '@tensorflow/tfjs';
import type { BatchNorm } from '../model/batch-norm.js';
import { QuantActivation, type QuantConv2D } from '../model/layers.js';
import { channelScale, quantizer } from '../model/quantizers.js';
import type { Affine, SignInput } from './folds.js';

// What the folds read of a trained tfjs model: arrays out of its layers, computed by TensorFlow's
// own ops where the engine must reproduce TensorFlow's rounding.

/**
 * The value a sign reads as TensorFlow computes it at inference: the convolution's per-channel
 * scale (magnitude_aware_sign; the dot product times alpha_c, rounded to float32), the
 * BatchNorm, and the activation's learnable shift (RSign), each by TensorFlow's own ops.
 */
export function signInput(model: tf.LayersModel, bn: string, act: string | null, alpha: Float32Array | null): SignInput {
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
export function kernelScale(model: tf.LayersModel, name: string): Float32Array | null {
  const layer = model.getLayer(name) as QuantConv2D;
  if (layer.kernelQuantizer?.name !== 'magnitude_aware_sign') return null;
  return tf.tidy(() => channelScale(layer.getWeights()[0]).dataSync() as Float32Array);
}

/** The kernel a convolution computes with (its quantizer applied), [kh][kw][in][out]. */
export function effectiveKernel(model: tf.LayersModel, name: string): Float32Array {
  const layer = model.getLayer(name) as QuantConv2D;
  const q = quantizer(layer.kernelQuantizer);
  return tf.tidy(() => {
    const k = layer.getWeights()[0];
    return (q ? q(k) : k).dataSync() as Float32Array;
  });
}

export function weightsOf(model: tf.LayersModel, name: string): Float32Array[] {
  return model
    .getLayer(name)
    .getWeights()
    .map((w) => w.dataSync() as Float32Array);
}

/**
 * A BatchNorm as its layer computes it at inference, x * scale + shift (BatchNorm.inferenceAffine:
 * the same float32 tensors). The block engine's exit heads fold a kernel scale alpha into scale
 * (there within float32 ulps of TensorFlow, whose round(alpha * dot) comes first); the residual
 * engine keeps alpha apart and matches it bit for bit.
 */
export function batchNormAffine(model: tf.LayersModel, name: string, alpha: Float32Array | null = null): Affine {
  const { scale, shift } = (model.getLayer(name) as BatchNorm).inferenceAffine();
  const [s, t] = [scale.dataSync() as Float32Array, shift.dataSync() as Float32Array];
  tf.dispose([scale, shift]);
  return { scale: alpha ? s.map((v, c) => v * alpha[c]) : s, shift: t };
}

/** The threshold a sign activation compares with: RSign's learnt shift per channel, else 0. */
export function signThreshold(model: tf.LayersModel, act: string, channels: number): Float32Array {
  const layer = model.getLayer(act);
  return layer instanceof QuantActivation && layer.shift ? weightsOf(model, act)[0] : new Float32Array(channels);
}
