import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { ClipFeaturizer } from '../src/features/featurize.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { BatchNorm } from '../src/model/batch-norm.ts';
import { WeightClip } from '../src/model/constraints.ts';
import { QuantConv2D, QuantDense } from '../src/model/layers.ts';
import { buildNetwork, layerName, networkConfig, pooledExitHead } from '../src/model/network.ts';
import { steSign } from '../src/model/quantizers.ts';
import { loadModelDir, MODEL_FORMAT_VERSION, writeModelDir, type ModelMeta } from '../src/model/saved-model.ts';
import { sharedSkip, SHARED_TEST_SET, tempDir } from './helpers/datasets.ts';

before(async () => {
  await initBackend();
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());
const close = (a: number[], b: number[], tol: number, what: string) =>
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= tol, `${what}[${i}]: ${v} vs ${b[i]}`));

test('STE sign: sign(0) = +1 forward; dy * (|x| <= 1) backward', () => {
  const x = tf.tensor1d([-2, -1, -0.5, 0, 0.5, 1, 2]);
  assert.deepEqual(values(steSign(x)), [-1, -1, -1, 1, 1, 1, 1]);
  const dy = tf.tensor1d([1, 2, 3, 4, 5, 6, 7]);
  const grad = tf.grad((t: tf.Tensor) => steSign(t))(x, dy);
  assert.deepEqual(values(grad), [0, 2, 3, 4, 5, 6, 0]);
});

test('weight clip keeps latent weights in [-1, 1]', () => {
  assert.deepEqual(values(new WeightClip().apply(tf.tensor1d([-3, -1, 0.25, 1, 7]))), [-1, -1, 0.25, 1, 1]);
  assert.deepEqual(new WeightClip({ clipValue: 0.5 }).getConfig(), { clipValue: 0.5 });
});

test('QuantConv2D computes with the sign of its kernel; the kernel gradient is the STE', () => {
  // No clip here: setWeights would clip the latent weights this test pushes outside [-1, 1].
  const layer = new QuantConv2D({ filters: 2, kernelSize: [1, 3], kernelQuantizer: 'ste_sign', seed: 3 });
  const x = tf.randomNormal([2, 4, 5, 3], 0, 1, 'float32', 11) as tf.Tensor4D;
  const y = layer.apply(x) as tf.Tensor;
  const kernel = layer.getWeights()[0];
  const expected = tf.conv2d(x, tf.where(tf.greaterEqual(kernel, 0), 1, -1) as tf.Tensor4D, 1, 'same');
  close(values(y), values(expected), 1e-5, 'output');

  // d(sum(y * r))/dkernel = conv filter gradient at sign(kernel), masked where |kernel| > 1.
  const latent = tf.tensor4d(
    Array.from(kernel.dataSync(), (v, i) => (i === 0 ? 1.5 : i === 1 ? -2 : v)),
    kernel.shape as [number, number, number, number],
  );
  layer.setWeights([latent]);
  const r = tf.randomNormal(y.shape, 0, 1, 'float32', 5);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, r)) as tf.Scalar, [layer.trainableWeights[0].read() as tf.Variable]);
  const g = Object.values(grads)[0];
  const signed = tf.where(tf.greaterEqual(latent, 0), 1, -1) as tf.Tensor4D;
  const manual = tf.grad((k: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(x, k as tf.Tensor4D, 1, 'same'), r)))(signed);
  const masked = values(manual).map((v, i) => (i < 2 ? 0 : v));
  close(values(g), masked, 1e-4, 'kernel gradient');
  assert.equal(values(g)[0], 0);
  assert.equal(values(g)[1], 0);
});

test('QuantDense with both quantizers is an XNOR-style ±1 product', () => {
  const layer = new QuantDense({ units: 3, inputQuantizer: 'ste_sign', kernelQuantizer: 'ste_sign', seed: 2 });
  const x = tf.tensor2d([[0.3, -2, 0, 5]]);
  const y = values(layer.apply(x) as tf.Tensor);
  const k = layer.getWeights()[0].arraySync() as number[][];
  const sx = [1, -1, 1, 1];
  const expected = [0, 1, 2].map((j) => sx.reduce((acc, s, i) => acc + s * (k[i][j] >= 0 ? 1 : -1), 0));
  assert.deepEqual(y, expected);
});

test('BatchNorm: the fused native op equals the composite one, forward and backward', (t) => {
  if (tf.getBackend() !== 'tensorflow') return t.skip('the fused op exists on the native backend only');
  const x = tf.randomNormal([4, 5, 3, 6], 2, 3, 'float32', 9) as tf.Tensor4D;
  const layer = new BatchNorm();
  layer.apply(x, { training: false }); // build
  layer.setWeights([tf.tensor1d([1, 2, 0.5, -1, 1, 3]), tf.tensor1d([0, 1, -1, 0.5, 0, 2]), tf.zeros([6]), tf.ones([6])]);
  const [gamma, beta] = layer.getWeights();
  const r = tf.randomNormal(x.shape, 0, 1, 'float32', 4);
  const loss = (xIn: tf.Tensor) => tf.sum(tf.mul(layer.apply(xIn, { training: true }) as tf.Tensor, r));
  const reference = (xIn: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
    const { mean, variance } = tf.moments(xIn, [0, 1, 2]);
    return tf.sum(tf.mul(tf.add(tf.mul(tf.div(tf.sub(xIn, mean), tf.sqrt(tf.add(variance, 1e-3))), g), b), r));
  };
  close([loss(x).dataSync()[0]], [reference(x, gamma, beta).dataSync()[0]], 1e-3, 'loss');
  close(values(tf.grad(loss)(x)), values(tf.grads(reference)([x, gamma, beta])[0]), 1e-4, 'dx');
  const ours = tf.variableGrads(
    () => loss(x) as tf.Scalar,
    layer.trainableWeights.map((w) => w.read() as tf.Variable),
  ).grads;
  const theirs = tf.grads(reference)([x, gamma, beta]);
  close(values(Object.values(ours)[0]), values(theirs[1]), 1e-3, 'dgamma');
  close(values(Object.values(ours)[1]), values(theirs[2]), 1e-3, 'dbeta');
  // Three training calls above, each moving the statistics 1% towards the batch's.
  const moved = 1 - 0.99 ** 3;
  close(
    values(layer.getWeights()[2]),
    values(tf.mean(x, [0, 1, 2])).map((m) => moved * m),
    1e-5,
    'moving mean',
  );
  const n = x.size / 6;
  const unbiased = values(tf.moments(x, [0, 1, 2]).variance).map((v) => (v * n) / (n - 1));
  close(
    values(layer.getWeights()[3]),
    unbiased.map((v) => 1 - moved + moved * v),
    1e-4,
    'moving variance (unbiased, as Keras)',
  );
});

function meta(network: ModelMeta['network']): ModelMeta {
  return {
    format: 'bee-model',
    formatVersion: MODEL_FORMAT_VERSION,
    beeVersion: 'test',
    labels: ['a', 'b', 'c'],
    features: PAPER_FEATURES,
    network,
    versions: {},
  };
}

test('a saved and reloaded network gives identical outputs at every exit', async () => {
  for (const precision of ['binary', 'float'] as const) {
    const config = networkConfig({ inputShape: [98, 64, 1], classes: 3, precision, width: 0.125, seed: 4 });
    const model = buildNetwork(config);
    assert.equal(model.outputs.length, 4);
    const x = tf.randomNormal([3, 98, 64, 1], -8, 3, 'float32', 1);
    model.apply(x, { training: true }); // move the BatchNorm statistics off their initial values
    const dir = path.join(tempDir(), 'model');
    await writeModelDir(dir, model, meta(config));
    assert.deepEqual(fs.readdirSync(dir).sort(), ['bee.json', 'model.json', 'weights.bin']);
    const loaded = await loadModelDir(dir);
    const before = (model.predict(x) as tf.Tensor[]).map(values);
    const after = (loaded.model.predict(x) as tf.Tensor[]).map(values);
    assert.deepEqual(after, before, `${precision}: outputs differ after reload`);
    assert.deepEqual(loaded.meta.network, config);
  }
});

test("the stages' widths: the architecture's or the ones asked for (any number that fits), times the width; a wrong list is refused", () => {
  const of = (args: Partial<Parameters<typeof networkConfig>[0]>) => networkConfig({ inputShape: [98, 64, 1], classes: 3, ...args }).filters;
  assert.deepEqual(of({ arch: 'reactnet' }), [32, 96, 192, 384]);
  assert.deepEqual(of({ arch: 'reactnet', filters: [32, 64, 128, 256] }), [32, 64, 128, 256]);
  assert.deepEqual(of({ arch: 'bee', filters: [8, 8, 16, 16], width: 0.5 }), [4, 4, 8, 8]);
  const model = buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 3, arch: 'reactnet', filters: [32, 64, 128, 256] }));
  assert.equal((model.getLayer(layerName.conv31(4)).getWeights()[0] as tf.Tensor).shape[3], 256);
  model.dispose();
  assert.deepEqual(of({ arch: 'reactnet', filters: [16, 32, 64] }), [16, 32, 64], 'any number of stages');
  for (const filters of [[], [32, 64, 0, 256], [32, 64, 1.5, 256], [8, 8, 8, 8, 8, 8, 8]])
    assert.throws(() => of({ filters }), /the stages' widths must be 1-6 whole numbers in 1\.\.4096/);
  // each stage halves the input: 98 x 64 holds six, 20 x 16 four
  assert.throws(
    () => networkConfig({ inputShape: [20, 16, 1], classes: 3, filters: [8, 8, 8, 8, 8] }),
    /5 stages halve the 20 x 16 input to nothing: at most 4 fit/,
  );
});

test("binary network: every conv kernel binary but the first pair's (real by default), activations are the STE sign", () => {
  const model = buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 12, seed: 1, arch: 'bee' }));
  const convs = model.layers.filter((l) => l instanceof QuantConv2D) as QuantConv2D[];
  assert.equal(convs.length, 12);
  assert.deepEqual(
    convs
      .filter((c) => !c.binaryKernel)
      .map((c) => c.name)
      .sort(),
    [layerName.conv13(1), layerName.conv31(1)],
  );
  const allBinary = buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 12, seed: 1, arch: 'bee', realFirstBlock: false }));
  assert.ok(allBinary.layers.filter((l) => l instanceof QuantConv2D).every((c) => (c as QuantConv2D).binaryKernel));
  assert.deepEqual(
    [1, 2, 3, 4].map((b) => (model.getLayer(layerName.conv11(b)) as QuantConv2D).filters),
    [32, 64, 128, 256],
  );
  assert.deepEqual(
    model.outputs.map((o) => o.shape),
    [1, 2, 3, 4].map(() => [null, 12]),
  );
});

test('binary activations entering blocks 2-4 are not degenerate on real clips', { skip: sharedSkip }, () => {
  const ds = loadDataset(SHARED_TEST_SET, { split: { salt: 'bee' } });
  const featurizer = new ClipFeaturizer(PAPER_FEATURES);
  const clips = ds.clips.filter((_, i) => i % 150 === 0);
  const x = tf.tensor4d(Float32Array.from(clips.flatMap((c) => Array.from(featurizer.featurize(c)))), [clips.length, 98, 64, 1]);
  const model = buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 12, seed: 1, arch: 'bee' }));
  const probe = tf.model({ inputs: model.inputs, outputs: [1, 2, 3].map((b) => model.getLayer(layerName.act(b)).output as tf.SymbolicTensor) });
  const acts = probe.apply(x, { training: true }) as tf.Tensor[];
  acts.forEach((a, i) => {
    const v = values(a);
    assert.ok(
      v.every((s) => s === 1 || s === -1),
      `block ${i + 2} input is ±1`,
    );
    const share = v.filter((s) => s === 1).length / v.length;
    assert.ok(share > 0.05 && share < 0.95, `block ${i + 2}: share of +1 is ${share}`);
  });
});

test("pooledExitHead: 4 x 2 unless asked, cut down to what the last stage's positions hold; a hidden layer comes with its BatchNorm", () => {
  assert.deepEqual(pooledExitHead([98, 64, 1], 4), { type: 'pooled', grid: [4, 2], hidden: 0 });
  // six stages leave 98 >> 6 = 1 frame and 64 >> 6 = 1 mel bin
  assert.deepEqual(pooledExitHead([98, 64, 1], 6), { type: 'pooled', grid: [1, 1], hidden: 0 });
  assert.deepEqual(pooledExitHead([98, 64, 1], 5), { type: 'pooled', grid: [3, 2], hidden: 0 });
  assert.deepEqual(pooledExitHead([98, 64, 1], 4, { grid: [2, 1], hidden: 16 }), { type: 'pooled', grid: [2, 1], hidden: 16, norm: true });
  // what it gives, the network accepts at every depth
  for (const stages of [1, 3, 5, 6])
    assert.doesNotThrow(() =>
      networkConfig({ inputShape: [98, 64, 1], classes: 3, filters: Array(stages).fill(8), exitHead: pooledExitHead([98, 64, 1], stages) }),
    );
});
