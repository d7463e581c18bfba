import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';

/**
 * A quantizer is a pure function with its own gradient, as in Larq: layers take one for their
 * inputs and one for their kernel, as a spec (a name and its parameters) that their config holds,
 * so that a saved model names them and rebuilds them exactly.
 */
export type Quantizer = (x: tf.Tensor) => tf.Tensor;

/** The quantizers bee knows, each with its parameters (Larq's names, camelCased). */
export type QuantizerSpec =
  | { name: 'ste_sign'; clipValue: number }
  | { name: 'approx_sign' }
  | { name: 'swish_sign'; beta: number }
  | { name: 'magnitude_aware_sign'; clipValue: number };

export type QuantizerName = QuantizerSpec['name'];

/** A quantizer as a layer config stores it, Keras-style: `{ className: 'SteSign', config: { clipValue: 1 } }`. */
export interface SerializedQuantizer {
  className: string;
  config: Record<string, number>;
}

/** sign(x) with sign(0) = +1: sign(sign(x) + 0.5) maps {-1, 0, 1} to {-1, 1, 1} in two cheap ops. */
const signOf = (x: tf.Tensor) => tf.sign(tf.add(tf.sign(x), 0.5));

/** 1 where |x| <= clip (the gradient of a hard tanh), else 0. */
const clipMask = (x: tf.Tensor, clip: number, dtype: tf.DataType) => tf.cast(tf.lessEqual(tf.abs(x), clip), dtype);

/** A sign whose backward pass is dy * surrogate(x): each quantizer below is one of these. */
function signWithGradient(surrogate: (x: tf.Tensor, dtype: tf.DataType) => tf.Tensor): Quantizer {
  return tf.customGrad((input, save) => {
    const x = input as tf.Tensor;
    (save as tf.GradSaveFunc)([x]);
    return { value: signOf(x), gradFunc: (dy, [saved]) => tf.mul(dy, surrogate(saved, dy.dtype)) };
  }) as Quantizer;
}

/**
 * ste_sign (Larq; Hubara et al. 2016, "Binarized Neural Networks"): forward sign(x), sign(0) = +1;
 * backward the straight-through estimator dy * (|x| <= clipValue), so that weights and activations
 * far outside [-clip, clip] stop receiving gradient.
 */
export const steSignWith = (clipValue: number): Quantizer => signWithGradient((x, dtype) => clipMask(x, clipValue, dtype));

/**
 * approx_sign (Larq; Liu et al. 2018, "Bi-Real Net", eq. 4): forward sign(x); backward the
 * derivative of the piecewise-polynomial approximation of sign, 2 - 2|x| for |x| <= 1, else 0
 * (a triangle: the gradient is largest near 0, where a sign is closest to flipping).
 */
export const approxSign: Quantizer = signWithGradient((x, dtype) => tf.mul(clipMask(x, 1, dtype), tf.sub(2, tf.mul(2, tf.abs(x)))));

/**
 * swish_sign (Larq; Darabi et al. 2018, "BNN+"): forward sign(x); backward the derivative of
 * 2 * sigmoid(beta x) * (1 + beta x (1 - sigmoid(beta x))) - 1, which is
 * beta (2 - beta x tanh(beta x / 2)) / (1 + cosh(beta x)).
 */
export const swishSignWith = (beta: number): Quantizer =>
  signWithGradient((x) => {
    const bx = tf.mul(beta, x);
    return tf.div(tf.mul(beta, tf.sub(2, tf.mul(bx, tf.tanh(tf.div(bx, 2))))), tf.add(1, tf.cosh(bx)));
  });

/** mean |w| over every axis but the last: the per-output-channel scale of magnitude_aware_sign. */
export function channelScale(kernel: tf.Tensor): tf.Tensor {
  return tf.mean(
    tf.abs(kernel),
    Array.from({ length: kernel.rank - 1 }, (_, i) => i),
  );
}

/**
 * magnitude_aware_sign of a kernel (Larq; XNOR-Net's binary weights with a scale per output
 * channel, Rastegari et al. 2016): forward alpha_c * sign(w) with alpha_c = mean |w| over all axes
 * but the last; backward alpha_c * dy * (|w| <= clipValue), the scale held constant (Larq stops
 * its gradient). At inference alpha_c * (±1 dot product) folds into the BatchNorm that follows,
 * so the engine still computes with bits.
 */
export const magnitudeAwareSignWith = (clipValue: number): Quantizer =>
  tf.customGrad((input, save) => {
    const x = input as tf.Tensor;
    const alpha = channelScale(x);
    (save as tf.GradSaveFunc)([x, alpha]);
    return { value: tf.mul(signOf(x), alpha), gradFunc: (dy, [saved, a]) => tf.mul(tf.mul(dy, a), clipMask(saved, clipValue, dy.dtype)) };
  }) as Quantizer;

/** channelScale held constant: its value, and no gradient (Larq's stop_gradient). */
const constantScale = tf.customGrad((input) => {
  const x = input as tf.Tensor;
  return { value: channelScale(x), gradFunc: () => tf.zeros(x.shape) };
}) as Quantizer;

/**
 * magnitude_aware_sign as its two factors, for a layer that scales after its ±1 product: sign(w)
 * with ste_sign's gradient, and alpha_c, constant. alpha_c * conv(x, sign(w)) is
 * conv(x, alpha_c * sign(w)) with the same gradients, but in float32 it rounds once: a ±1
 * convolution is exact, where TensorFlow would sum ±alpha_c with a rounding at every step in an
 * order of its own. The packed engines compute round(alpha_c * dot) too. Null for other quantizers.
 */
export function kernelFactors(spec: QuantizerSpec | null, kernel: tf.Tensor): { signs: tf.Tensor; alpha: tf.Tensor } | null {
  if (spec?.name !== 'magnitude_aware_sign') return null;
  return { signs: steSignWith(spec.clipValue)(kernel), alpha: constantScale(kernel) };
}

export const steSign = steSignWith(1);
export const magnitudeAwareSign = magnitudeAwareSignWith(1);
export const swishSign = swishSignWith(5);

interface Kind {
  className: string;
  /** each parameter with its default (Larq's) */
  defaults: Record<string, number>;
  make: (p: Record<string, number>) => Quantizer;
}

const KINDS: Record<QuantizerName, Kind> = {
  ste_sign: { className: 'SteSign', defaults: { clipValue: 1 }, make: (p) => (p.clipValue === 1 ? steSign : steSignWith(p.clipValue)) },
  approx_sign: { className: 'ApproxSign', defaults: {}, make: () => approxSign },
  swish_sign: { className: 'SwishSign', defaults: { beta: 5 }, make: (p) => (p.beta === 5 ? swishSign : swishSignWith(p.beta)) },
  magnitude_aware_sign: {
    className: 'MagnitudeAwareSign',
    defaults: { clipValue: 1 },
    make: (p) => (p.clipValue === 1 ? magnitudeAwareSign : magnitudeAwareSignWith(p.clipValue)),
  },
};

const known = () => Object.keys(KINDS).join(', ');

/** A name in bee's spelling: tfjs-layers camel-cases string values when it loads a model.json ('ste_sign' comes back as 'steSign'). */
function nameOf(name: string): QuantizerName {
  const snake = name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`).replace(/^_/, '');
  if (!(snake in KINDS)) throw new BeeError(`unknown quantizer '${name}'`, { hint: `known: ${known()}` });
  return snake as QuantizerName;
}

/**
 * A quantizer spec from what a layer config or a caller gives: a name (models saved before
 * quantizers had parameters: Larq's defaults), a spec, or the serialized form.
 */
export function quantizerSpec(given: string | Partial<QuantizerSpec> | SerializedQuantizer): QuantizerSpec {
  const [name, params] =
    typeof given === 'string'
      ? [nameOf(given), {}]
      : 'className' in given
        ? [nameOf(given.className), given.config ?? {}]
        : [nameOf(String(given.name)), given as Record<string, unknown>];
  const { defaults } = KINDS[name];
  const spec: Record<string, unknown> = { name };
  for (const [key, fallback] of Object.entries(defaults)) {
    const value = (params as Record<string, unknown>)[key] ?? fallback;
    if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
      throw new BeeError(`quantizer ${name}: ${key} must be a number > 0, got ${JSON.stringify(value)}`, { hint: `e.g. ${key} ${fallback}` });
    }
    spec[key] = value;
  }
  return spec as QuantizerSpec;
}

/** The serialized form of a spec, for a layer's config. */
export function serializeQuantizer(spec: QuantizerSpec): SerializedQuantizer {
  const { name, ...config } = spec;
  return { className: KINDS[name].className, config: config as Record<string, number> };
}

/** The quantizer of a spec (or of a name, with Larq's defaults); null means none (real values pass). */
export function quantizer(given: QuantizerSpec | QuantizerName | null | undefined): Quantizer | undefined {
  if (given == null) return undefined;
  const spec = quantizerSpec(given);
  return KINDS[spec.name].make(spec as unknown as Record<string, number>);
}
