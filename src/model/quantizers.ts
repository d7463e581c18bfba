import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';

/**
 * A quantizer is a pure function with its own gradient, as in Larq: layers take one for their
 * inputs and one for their kernel, by name, so that a saved model's config names them.
 */
export type Quantizer = (x: tf.Tensor) => tf.Tensor;

/**
 * Sign with a straight-through estimator: forward sign(x) with sign(0) = +1; backward
 * dy * (|x| <= 1), the gradient of a hard tanh, so that weights and activations far outside
 * [-1, 1] stop receiving gradient.
 */
export const steSign: Quantizer = tf.customGrad((input, save) => {
  const x = input as tf.Tensor;
  (save as tf.GradSaveFunc)([x]);
  // sign(sign(x) + 0.5) maps {-1, 0, 1} to {-1, 1, 1}: sign(0) = +1 in two cheap ops.
  const value = tf.sign(tf.add(tf.sign(x), 0.5));
  return {
    value,
    gradFunc: (dy, [saved]) => tf.mul(dy, tf.cast(tf.lessEqual(tf.abs(saved), 1), dy.dtype)),
  };
}) as Quantizer;

export type QuantizerName = 'ste_sign';

const QUANTIZERS: Record<QuantizerName, Quantizer> = { ste_sign: steSign };

/**
 * The quantizer of a name in a layer config; null means none (real values pass). tfjs-layers
 * camel-cases string values when it loads a model.json ('ste_sign' comes back as 'steSign').
 */
export function quantizer(name: QuantizerName | null | undefined): Quantizer | undefined {
  if (name == null) return undefined;
  const q = QUANTIZERS[name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`) as QuantizerName];
  if (!q) throw new BeeError(`unknown quantizer '${name}'`, { hint: `known: ${Object.keys(QUANTIZERS).join(', ')}` });
  return q;
}
