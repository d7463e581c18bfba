import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';

/**
 * A quantizer is a pure function with its own gradient, as in Larq: layers take one for their
 * inputs and one for their kernel, by name, so that a saved model's config names them.
 */
export type Quantizer = (x: tf.Tensor) => tf.Tensor;

/** sign(x) with sign(0) = +1: sign(sign(x) + 0.5) maps {-1, 0, 1} to {-1, 1, 1} in two cheap ops. */
const signOf = (x: tf.Tensor) => tf.sign(tf.add(tf.sign(x), 0.5));

/** The straight-through mask: 1 where |x| <= 1 (the gradient of a hard tanh), else 0. */
const steMask = (x: tf.Tensor, dtype: tf.DataType) => tf.cast(tf.lessEqual(tf.abs(x), 1), dtype);

/**
 * Sign with a straight-through estimator: forward sign(x) with sign(0) = +1; backward
 * dy * (|x| <= 1), the gradient of a hard tanh, so that weights and activations far outside
 * [-1, 1] stop receiving gradient.
 */
export const steSign: Quantizer = tf.customGrad((input, save) => {
  const x = input as tf.Tensor;
  (save as tf.GradSaveFunc)([x]);
  return { value: signOf(x), gradFunc: (dy, [saved]) => tf.mul(dy, steMask(saved, dy.dtype)) };
}) as Quantizer;

/**
 * Magnitude-aware sign of a kernel (XNOR-Net's binary weights with a scale per output channel;
 * Larq's `magnitude_aware_sign`): forward alpha_c * sign(w) with alpha_c = mean |w| over all axes
 * but the last (the output channels); backward alpha_c * dy * (|w| <= 1), the scale held constant
 * (Larq stops its gradient). At inference alpha_c * (±1 dot product) folds into the BatchNorm
 * that follows, so the engine still computes with bits.
 */
export const magnitudeAwareSign: Quantizer = tf.customGrad((input, save) => {
  const x = input as tf.Tensor;
  const alpha = channelScale(x);
  (save as tf.GradSaveFunc)([x, alpha]);
  return { value: tf.mul(signOf(x), alpha), gradFunc: (dy, [saved, a]) => tf.mul(tf.mul(dy, a), steMask(saved, dy.dtype)) };
}) as Quantizer;

/** mean |w| over every axis but the last: the per-output-channel scale of magnitude_aware_sign. */
export function channelScale(kernel: tf.Tensor): tf.Tensor {
  return tf.mean(
    tf.abs(kernel),
    Array.from({ length: kernel.rank - 1 }, (_, i) => i),
  );
}

export type QuantizerName = 'ste_sign' | 'magnitude_aware_sign';

const QUANTIZERS: Record<QuantizerName, Quantizer> = { ste_sign: steSign, magnitude_aware_sign: magnitudeAwareSign };

/** A config's quantizer name in bee's spelling: tfjs-layers camel-cases string values when it loads a model.json ('ste_sign' comes back as 'steSign'). */
export function quantizerName(name: string): QuantizerName {
  const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) as QuantizerName;
  if (!(snake in QUANTIZERS)) throw new BeeError(`unknown quantizer '${name}'`, { hint: `known: ${Object.keys(QUANTIZERS).join(', ')}` });
  return snake;
}

/** The quantizer of a name in a layer config; null means none (real values pass). */
export function quantizer(name: QuantizerName | null | undefined): Quantizer | undefined {
  return name == null ? undefined : QUANTIZERS[quantizerName(name)];
}
