// The fused residual stage (src/train/fused-stage.ts) and its kernels: BeeResidual and
// BeeAvgPool2Tile against the composite ops they replace, each alone and on boundary values, and a
// whole ReActNet network trained through trainingForward against the same network run layer by
// layer: the same loss, gradients and moving statistics, bit for bit.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend.ts';
import { close, same } from './helpers/tensors.ts';
import { fusedOps } from '../src/backend/fused-ops.ts';
import { nativeOps } from '../src/backend/native-ops.ts';
import { buildNetwork, networkConfig } from '../src/model/network.ts';
import { steSignWith } from '../src/model/quantizers.ts';
import { fusedResidualStage } from '../src/train/fused-stage.ts';
import { trainingForward } from '../src/train/training-forward.ts';

await initBackend();
const ops = fusedOps() && nativeOps();
const skip = () => (ops ? false : 'bee fused kernels are not built here (native backend and scripts/install-native.mjs needed): the layers train alone');

test("a residual unit's tail: p = n + t, h = RPReLU(p), s = sign(h - shift), and its gradient, as the composite ops compute them", { skip: skip() }, () => {
  const shape = [3, 5, 7, 6];
  // Integers and halves put p - gamma at 0 and h - shift at 0 and at ±1 (the STE's edges) often.
  const n = tf.div(tf.round(tf.randomUniform(shape, -6, 6, 'float32', 1)), 2);
  const t = tf.div(tf.round(tf.randomUniform(shape, -4, 4, 'float32', 2)), 2);
  const gamma = tf.tensor1d([0, 0.5, -0.5, 1, 0, -1]);
  const slope = tf.tensor1d([0.25, 0, 1, 1.5, -0.5, 0.1]);
  const zeta = tf.tensor1d([0, 0.5, -1, 0.5, 0, 2]);
  const shift = tf.tensor1d([0, 0.5, -0.5, 1, 2, 0]);
  const rprelu = (p: tf.Tensor, g: tf.Tensor, s: tf.Tensor, z: tf.Tensor) => tf.add(tf.prelu(tf.sub(p, g), s), z);
  const [p, h, s] = ops!.run('BeeResidual', [ops!.bool('sign', true)], [n, t, gamma, slope, zeta, shift], 3);
  same(p, tf.add(n, t), 'p');
  same(h, rprelu(p, gamma, slope, zeta), 'h');
  same(s, steSignWith(1)(tf.sub(h, shift)), 's');
  const [, hOnly, none] = ops!.run('BeeResidual', [ops!.bool('sign', false)], [n, t, gamma, slope, zeta, tf.tensor1d([])], 3);
  same(hOnly, h, 'h without the sign');
  assert.equal(none.size, 0);

  // The gradient at h sums the path's (dh) and the sign's straight-through share of ds.
  const [dh, ds] = [tf.randomNormal(shape, 0, 1, 'float32', 3), tf.randomNormal(shape, 0, 1, 'float32', 4)];
  const [dp, dGamma, dSlope, dZeta, dShift] = ops!.run(
    'BeeResidualGrad',
    [ops!.bool('sign', true), ops!.float('clip', 1)],
    [dh, ds, h, shift, p, gamma, slope],
    5,
  );
  const [dhSign, dShiftRef] = tf.grads((a: tf.Tensor, b: tf.Tensor) => steSignWith(1)(tf.sub(a, b)))([h, shift], ds);
  const atH = tf.add(dh, dhSign);
  const [dpRef, dGammaRef, dSlopeRef, dZetaRef] = tf.grads(rprelu)([p, gamma, slope, zeta], atH);
  same(dp, dpRef, 'dp');
  for (const [ours, theirs, name] of [
    [dGamma, dGammaRef, 'dgamma'],
    [dSlope, dSlopeRef, 'dslope'],
    [dZeta, dZetaRef, 'dzeta'],
    [dShift, dShiftRef, 'dshift'],
  ] as const)
    close(ours, theirs, 1e-5, name);
  const [dpAlone, , , , noShift] = ops!.run(
    'BeeResidualGrad',
    [ops!.bool('sign', false), ops!.float('clip', 1)],
    [dh, tf.tensor1d([]), tf.tensor1d([]), tf.tensor1d([]), p, gamma, slope],
    5,
  );
  same(dpAlone, tf.grads(rprelu)([p, gamma, slope, zeta], dh)[0], 'dp without the sign');
  assert.equal(noShift.size, 0);
});

test('the widening shortcut: 2x2 average pooling with channels repeated, and its gradient plus an addend, on odd sizes', { skip: skip() }, () => {
  for (const [shape, times] of [
    [[2, 7, 5, 4], 3],
    [[3, 98, 64, 16], 2],
  ] as [[number, number, number, number], number][]) {
    const x = tf.randomNormal(shape, 0, 2, 'float32', 5);
    const composed = (a: tf.Tensor) => tf.tile(tf.avgPool(a as tf.Tensor4D, 2, 2, 'valid'), [1, 1, 1, times]);
    const y = ops!.run('BeeAvgPool2Tile', [ops!.int('channels', shape[3] * times)], [x], 1)[0];
    same(y, composed(x), `forward ${shape.join('x')}`);
    const [dy, addend] = [tf.randomNormal(y.shape, 0, 1, 'float32', 6), tf.randomNormal(shape, 0, 1, 'float32', 7)];
    const dx = ops!.run('BeeAvgPool2TileGrad', [], [dy, addend], 1)[0];
    close(dx, tf.add(addend, tf.grad(composed)(x, dy)), 1e-6, `gradient ${shape.join('x')}`);
  }
});

test('ReActNet trained through its fused stages: the loss, every gradient and the moving statistics of its layers, bit for bit', { skip: skip() }, () => {
  // Odd sizes at every stage (42 x 30 -> 21 x 15 -> 10 x 7 -> 5 x 3 -> 2 x 1) and shortcuts that double and triple.
  const config = networkConfig({ inputShape: [42, 30, 1], classes: 5, width: 0.25, arch: 'reactnet', seed: 3 });
  const [layered, fused] = [buildNetwork(config), buildNetwork(config)];
  // Weights away from their initial values (RPReLU's and RSign's start at 0), the same in both.
  const weights = layered.getWeights().map((w, i) => tf.add(w, tf.randomNormal(w.shape, 0, 0.3, 'float32', 100 + i)));
  layered.setWeights(weights);
  fused.setWeights(weights);
  const forward = trainingForward(fused, 'reactnet');
  assert.ok(
    [1, 2, 3, 4].every((b) => fusedResidualStage((name) => fused.layers.find((l) => l.name === name), b)),
    'every stage fuses',
  );
  const x = tf.randomNormal([6, 42, 30, 1], -2, 3, 'float32', 5);
  const y = tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 0], 'int32'), 5);
  const loss = (outs: tf.Tensor[]) => tf.addN(outs.map((o) => tf.losses.softmaxCrossEntropy(y, o))) as tf.Scalar;
  const vars = (m: tf.LayersModel) => m.trainableWeights.map((w) => w.read() as tf.Variable);
  const theirs = tf.variableGrads(() => loss(layered.apply(x, { training: true }) as tf.Tensor[]), vars(layered));
  const ours = tf.variableGrads(() => loss(forward(x)), vars(fused));
  same(ours.value, theirs.value, 'loss');
  const [names, theirNames] = [Object.keys(ours.grads), Object.keys(theirs.grads)];
  assert.equal(names.length, 95);
  names.forEach((name, i) => same(ours.grads[name], theirs.grads[theirNames[i]], name));
  const moving = (m: tf.LayersModel) => m.weights.filter((w) => !w.trainable).map((w) => w.read());
  moving(fused).forEach((v, i) => same(v, moving(layered)[i], `moving statistic ${i}`));
});

test('other families train through their layers: no stage of the Bi-Real network fuses', () => {
  const model = buildNetwork(networkConfig({ inputShape: [42, 30, 1], classes: 5, width: 0.25, arch: 'bireal', seed: 3 }));
  assert.ok([1, 2, 3, 4].every((b) => !fusedResidualStage((name) => model.layers.find((l) => l.name === name), b)));
});
