// bee's fused training kernels (src/native/bee_ops.cc) against the composite tfjs ops they replace:
// the same float32 values forward and backward (the per-channel gradient sums to float rounding),
// MaxPool's gradient routed to the first maximum on inputs full of ties, Adam bit for bit over a
// schedule, and the default network's loss and gradients with the kernels and without.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend.ts';
import { close, same } from './helpers/tensors.ts';
import { type FusedOps, fusedOps } from '../src/backend/fused-ops.ts';
import { nativeOps } from '../src/backend/native-ops.ts';
import { buildNetwork, networkConfig } from '../src/model/network.ts';
import { kernelFactors, steSignWith } from '../src/model/quantizers.ts';
import { Adam } from '../src/train/adam.ts';

await initBackend();
const fused: FusedOps | undefined = fusedOps();
const skip = () => (fused ? false : 'bee fused kernels are not built here (native backend and scripts/install-native.mjs needed): composite ops only');

/** Runs f with the fused kernels off (BEE_FUSED_OPS=0 is read at every call). */
function composite<T>(f: () => T): T {
  process.env.BEE_FUSED_OPS = '0';
  try {
    return f();
  } finally {
    delete process.env.BEE_FUSED_OPS;
  }
}

// Odd sizes (a lone last row and column) and values on the boundaries: x - shift at 0 and at ±1.
const x = tf.tidy(() => tf.concat([tf.randomNormal([2, 7, 5, 6], 0, 1.5, 'float32', 1), tf.fill([1, 7, 5, 6], 1)], 0));
const shift = tf.tensor1d([0, 0.5, -0.5, 1, 2, 0]);
const dy = tf.randomNormal(x.shape, 0, 1, 'float32', 2);

test('sign with the straight-through gradient: the same values as ste_sign(x - shift), forward and backward', { skip: skip() }, () => {
  const composed = (a: tf.Tensor, s: tf.Tensor) => steSignWith(1)(tf.sub(a, s));
  const ours = (a: tf.Tensor, s: tf.Tensor) => fused!.steSign(a, s as tf.Tensor1D, 1);
  same(ours(x, shift), composed(x, shift), 'forward');
  const [gx, gs] = tf.grads((a: tf.Tensor, s: tf.Tensor) => ours(a, s))([x, shift], dy);
  const [rx, rs] = tf.grads((a: tf.Tensor, s: tf.Tensor) => composed(a, s))([x, shift], dy);
  same(gx, rx, 'dx');
  close(gs, rs, 1e-5, 'dshift');
});

test('RPReLU: the same values as prelu(x - gamma, slope) + zeta, forward and backward', { skip: skip() }, () => {
  const gamma = tf.tensor1d([0, 0.3, -0.3, 1, 0, -1]);
  const slope = tf.tensor1d([0.25, 0, 1, 1.5, -0.5, 0.1]);
  const zeta = tf.tensor1d([0, 1, -1, 0.5, 0, 2]);
  const composed = (a: tf.Tensor, g: tf.Tensor, s: tf.Tensor, z: tf.Tensor) => tf.add(tf.prelu(tf.sub(a, g), s), z);
  const ours = (a: tf.Tensor, g: tf.Tensor, s: tf.Tensor, z: tf.Tensor) => fused!.rprelu(a, g as tf.Tensor1D, s as tf.Tensor1D, z as tf.Tensor1D);
  same(ours(x, gamma, slope, zeta), composed(x, gamma, slope, zeta), 'forward');
  const inputs = [x, gamma, slope, zeta];
  const mine = tf.grads(ours)(inputs, dy);
  const theirs = tf.grads(composed)(inputs, dy);
  same(mine[0], theirs[0], 'dx');
  for (const [i, name] of ['dgamma', 'dslope', 'dzeta'].entries()) close(mine[i + 1], theirs[i + 1], 1e-5, name);
});

test("MaxPool's gradient goes to each window's first maximum, as TensorFlow's MaxPoolGrad sends it", { skip: skip() }, () => {
  const ops = nativeOps()!;
  const int = (name: string, value: number[]) => ({ name, type: (tf.backend() as unknown as { binding: Record<string, number> }).binding.TF_ATTR_INT, value });
  for (const shape of [
    [2, 7, 5, 3],
    [3, 98, 64, 32],
  ] as [number, number, number, number][]) {
    const ties = tf.round(tf.randomUniform(shape, -2, 2, 'float32', 3)) as tf.Tensor4D; // few values: many ties
    const pooled = tf.maxPool(ties, 2, 2, 'valid');
    const g = tf.randomNormal(pooled.shape, 0, 1, 'float32', 4);
    const reference = ops.run(
      'MaxPoolGrad',
      [ops.float32('T'), int('ksize', [1, 2, 2, 1]), int('strides', [1, 2, 2, 1]), ops.string('padding', 'VALID'), ops.string('data_format', 'NHWC')],
      [ties, pooled, g],
      1,
    )[0];
    same(tf.grad((t: tf.Tensor) => tf.maxPool(t as tf.Tensor4D, 2, 2, 'valid'))(ties, g), reference, `MaxPool gradient ${shape.join('x')}`);
  }
});

test("Max's gradient over the positions of NHWC maps goes to every maximum, as tfjs's composite gradient sends it", { skip: skip() }, () => {
  const ties = tf.round(tf.randomUniform([3, 7, 5, 6], -2, 2, 'float32', 8)) as tf.Tensor4D; // few values: many ties
  const g = tf.randomNormal([3, 6], 0, 1, 'float32', 9);
  const top = tf.reshape(tf.max(ties, [1, 2]), [3, 1, 1, 6]);
  const expected = tf.mul(tf.reshape(g, [3, 1, 1, 6]), tf.cast(tf.equal(ties, top), 'float32'));
  same(tf.grad((t: tf.Tensor) => tf.max(t, [1, 2]))(ties, g), expected, 'Max gradient');
  // other reductions keep tfjs's gradient
  same(tf.grad((t: tf.Tensor) => tf.max(t, [3]))(ties, tf.ones([3, 7, 5])), tf.cast(tf.equal(ties, tf.max(ties, 3, true)), 'float32'), 'over channels');
});

test('magnitude-aware kernels: alpha * sign(w) and dy * alpha * (|w| <= 1), alpha held constant', { skip: skip() }, () => {
  const w = tf.concat([tf.randomUniform([3, 1, 5, 8], -1.5, 1.5, 'float32', 11), tf.zeros([1, 1, 5, 8])], 0);
  const g = tf.randomNormal(w.shape, 0, 1, 'float32', 12);
  const { signs, alpha } = kernelFactors({ name: 'magnitude_aware_sign', clipValue: 1 }, w)!;
  close(fused!.scaledSign(w, 1), tf.mul(signs, alpha), 1e-6, 'alpha * sign(w)');
  const expected = tf.mul(tf.mul(g, alpha), tf.cast(tf.lessEqual(tf.abs(w), 1), 'float32'));
  close(tf.grad((k: tf.Tensor) => fused!.scaledSign(k, 1))(w, g), expected, 1e-6, 'gradient');
});

test("Adam: bit for bit tfjs's AdamOptimizer over a changing learning rate, with the same state names", { skip: skip() }, async () => {
  const start = [tf.randomNormal([3, 5], 0, 1, 'float32', 5), tf.randomNormal([7], 0, 1, 'float32', 6)];
  const theirs = start.map((t, i) => tf.variable(t.clone(), true, `fused_test_ref_${i}`));
  const ours = start.map((t, i) => tf.variable(t.clone(), true, `fused_test_ours_${i}`));
  const [reference, adam] = [tf.train.adam(3e-3, 0.9, 0.999, 1e-7), new Adam(3e-3, 0.9, 0.999, 1e-7)];
  for (let s = 0; s < 20; s++) {
    const grads = start.map((t, i) => tf.randomNormal(t.shape, 0, 1, 'float32', 100 * s + i));
    reference.applyGradients(theirs.map((v, i) => ({ name: v.name, tensor: grads[i] })));
    adam.applyGradients(ours.map((v, i) => ({ name: v.name, tensor: grads[i] })));
    for (const o of [reference, adam]) (o as unknown as { learningRate: number }).learningRate = 3e-3 * (1 - s / 20);
  }
  for (const [i, v] of ours.entries()) same(v, theirs[i], `variable ${i}`);
  const [w1, w2] = [await reference.getWeights(), await adam.getWeights()];
  assert.deepEqual(
    w2.map((w) => w.name.replace('ours', 'ref')),
    w1.map((w) => w.name),
  );
  for (const [i, w] of w2.entries()) same(w.tensor, w1[i].tensor, w.name);
});

test('the bee block with RSign: the same loss and gradients with the fused kernels and without', { skip: skip() }, () => {
  // Its kernels are plain signs, so its convolutions' outputs are whole numbers either way and
  // max pooling breaks their ties by position in both; the default network's scaled kernels round
  // alpha * sums in an order of their own, which moves ties (and so gradients) apart.
  const model = buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 12, seed: 3, arch: 'bee', signShift: true }));
  const batch = tf.randomNormal([8, 98, 64, 1], -8, 3, 'float32', 7);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 12);
  const lossAndGrads = () =>
    tf.variableGrads(() => tf.addN((model.apply(batch, { training: true }) as tf.Tensor[]).map((o) => tf.losses.softmaxCrossEntropy(y, o))) as tf.Scalar);
  const ours = lossAndGrads();
  const theirs = composite(lossAndGrads);
  const loss = [ours.value.dataSync()[0], theirs.value.dataSync()[0]];
  assert.ok(Math.abs(loss[0] - loss[1]) <= 1e-5 * loss[1], `loss ${loss[0]} vs ${loss[1]}`);
  // Gradient sums add in another order: each variable's gradient agrees to 1e-3 of its norm.
  for (const [name, g] of Object.entries(ours.grads)) {
    const norm = tf.norm(theirs.grads[name]).dataSync()[0];
    const gap = tf.norm(tf.sub(g, theirs.grads[name])).dataSync()[0];
    assert.ok(gap <= 1e-3 * norm + 1e-6, `${name}: the gradients differ by ${gap} (norm ${norm})`);
  }
  model.dispose();
});
