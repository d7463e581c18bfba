import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend.ts';
import { buildNetwork, networkConfig } from '../src/model/network.ts';
import { adamFor } from '../src/train/adam.ts';
import { trainStep } from '../src/train/train-step.ts';
import { logMelLike } from './helpers/random-network.ts';

before(async () => {
  await initBackend();
});

test("class weights: the step's loss is each exit's cross-entropies weighted by their examples' classes, then averaged, times the exit's weight", () => {
  const config = networkConfig({ inputShape: [98, 64, 1], classes: 3, arch: 'bee', filters: [8, 16], seed: 2 });
  const labels = Int32Array.from([0, 1, 2, 2, 1, 0]);
  const x = tf.tensor4d(logMelLike(labels.length, 3), [labels.length, 98, 64, 1]);
  const classWeights = [1, 3, 0.5];
  const exitWeights = [0.5, 1];
  // the loss as defined, from the same forward pass (training mode: BatchNorm on the batch's statistics)
  const model = buildNetwork(config);
  const expected = tf.tidy(() => {
    const outs = model.apply(x, { training: true }) as tf.Tensor[];
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), 3);
    const w = tf.tensor1d(Array.from(labels, (l) => classWeights[l]));
    return outs.reduce(
      (sum, o, k) =>
        sum + exitWeights[k] * (tf.mean(tf.mul(w, tf.losses.softmaxCrossEntropy(y, o, undefined, undefined, tf.Reduction.NONE))).arraySync() as number),
      0,
    );
  });
  const fresh = buildNetwork(config); // the same seed: the same weights, untouched by the pass above
  const [weighted] = trainStep(fresh, adamFor(1e-3), 3, { classWeights })(x, labels, exitWeights);
  assert.ok(Math.abs(weighted - expected) < 1e-5 * Math.abs(expected), `${weighted} vs ${expected}`);
  // and weights of 1 are no weights at all
  const [plain] = trainStep(buildNetwork(config), adamFor(1e-3), 3)(x, labels, exitWeights);
  const [ones] = trainStep(buildNetwork(config), adamFor(1e-3), 3, { classWeights: [1, 1, 1] })(x, labels, exitWeights);
  assert.equal(ones, plain);
  assert.notEqual(weighted, plain);
  tf.dispose([x]);
  model.dispose();
});
