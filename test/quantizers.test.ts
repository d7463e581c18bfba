// Every quantizer's forward pass and gradient against values computed by hand, and their
// serialized form: a layer's config names its quantizer and parameters, older bare names still read.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend.ts';
import { QuantActivation, QuantConv2D } from '../src/model/layers.ts';
import { approxSign, quantizer, quantizerSpec, serializeQuantizer, steSignWith, swishSignWith } from '../src/model/quantizers.ts';

before(async () => {
  await initBackend();
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());
const close = (a: number[], b: number[], tol: number, what: string) => {
  assert.equal(a.length, b.length, what);
  for (const [i, v] of a.entries()) assert.ok(Math.abs(v - b[i]) <= tol, `${what}[${i}]: ${v} vs ${b[i]}`);
};
const x = tf.tensor1d([-2, -0.75, -0.25, 0, 0.25, 0.75, 2]);
const dy = tf.tensor1d([1, 1, 1, 1, 1, 1, 1]);
const gradient = (q: (t: tf.Tensor) => tf.Tensor) => values(tf.grad((t: tf.Tensor) => q(t))(x, dy));
const SIGNS = [-1, -1, -1, 1, 1, 1, 1];

test('ste_sign with a clip value: dy * (|x| <= clip)', () => {
  const q = steSignWith(0.5);
  assert.deepEqual(values(q(x)), SIGNS);
  assert.deepEqual(gradient(q), [0, 0, 1, 1, 1, 0, 0]);
});

test('approx_sign (Bi-Real Net): dy * (2 - 2|x|) inside [-1, 1], else 0', () => {
  assert.deepEqual(values(approxSign(x)), SIGNS);
  close(gradient(approxSign), [0, 0.5, 1.5, 2, 1.5, 0.5, 0], 1e-6, 'approx_sign gradient');
});

test('swish_sign (BNN+): dy * beta (2 - beta x tanh(beta x / 2)) / (1 + cosh(beta x))', () => {
  const beta = 5;
  const q = swishSignWith(beta);
  assert.deepEqual(values(q(x)), SIGNS);
  // by hand at x = 0: beta * 2 / 2 = beta; at x = 0.25: 5 (2 - 1.25 tanh(0.625)) / (1 + cosh(1.25))
  const at = (v: number) => (beta * (2 - beta * v * Math.tanh((beta * v) / 2))) / (1 + Math.cosh(beta * v));
  close(gradient(q), [-2, -0.75, -0.25, 0, 0.25, 0.75, 2].map(at), 1e-5, 'swish_sign gradient');
  assert.ok(Math.abs(at(0) - 5) < 1e-12 && Math.abs(at(0.25) - (5 * (2 - 1.25 * Math.tanh(0.625))) / (1 + Math.cosh(1.25))) < 1e-12);
});

test('specs: names with Larq defaults, parameters checked, serialized Keras-style and back', () => {
  assert.deepEqual(quantizerSpec('ste_sign'), { name: 'ste_sign', clipValue: 1 });
  assert.deepEqual(quantizerSpec('steSign'), { name: 'ste_sign', clipValue: 1 }, 'tfjs camel-cases string values of a loaded config');
  assert.deepEqual(quantizerSpec('approx_sign'), { name: 'approx_sign' });
  assert.deepEqual(quantizerSpec({ name: 'swish_sign' }), { name: 'swish_sign', beta: 5 });
  for (const spec of [
    quantizerSpec({ name: 'ste_sign', clipValue: 1.3 }),
    quantizerSpec('approx_sign'),
    quantizerSpec({ name: 'swish_sign', beta: 2 }),
    quantizerSpec('magnitude_aware_sign'),
  ]) {
    assert.deepEqual(quantizerSpec(serializeQuantizer(spec)), spec);
  }
  assert.deepEqual(serializeQuantizer({ name: 'ste_sign', clipValue: 1.3 }), { className: 'SteSign', config: { clipValue: 1.3 } });
  assert.throws(
    () => quantizerSpec('dorefa'),
    /unknown quantizer 'dorefa' \(known: ste_sign, approx_sign, swish_sign, magnitude_aware_sign\)|unknown quantizer 'dorefa'/,
  );
  assert.throws(() => quantizerSpec({ name: 'ste_sign', clipValue: -1 }), /ste_sign: clipValue must be a number > 0, got -1/);
  assert.equal(quantizer(null), undefined);
  assert.deepEqual(values(quantizer('ste_sign')!(x)), SIGNS, 'a bare name gives the quantizer with its defaults');
});

test('layers save their quantizers with parameters and load them, and configs of older models (bare names) still load', async () => {
  const input = tf.input({ shape: [4, 4, 2] });
  const conv = new QuantConv2D({
    filters: 3,
    kernelSize: [1, 3],
    inputQuantizer: { name: 'ste_sign', clipValue: 1.5 },
    kernelQuantizer: 'approx_sign',
    seed: 1,
    name: 'c',
  });
  const act = new QuantActivation({ quantizer: { name: 'swish_sign', beta: 3 }, name: 'a' });
  const model = tf.model({ inputs: input, outputs: act.apply(conv.apply(input)) as tf.SymbolicTensor });
  let saved!: tf.io.ModelArtifacts;
  await model.save(tf.io.withSaveHandler(async (a) => ((saved = a), { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } })));
  const topology = JSON.stringify(saved.modelTopology);
  assert.match(topology, /"kernel_quantizer":\{"class_name":"ApproxSign","config":\{\}\}/, 'saved as Keras and Larq save it');
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved));
  assert.deepEqual((loaded.getLayer('c') as QuantConv2D).inputQuantizer, { name: 'ste_sign', clipValue: 1.5 });
  assert.deepEqual((loaded.getLayer('c') as QuantConv2D).kernelQuantizer, { name: 'approx_sign' });
  assert.deepEqual((loaded.getLayer('a') as QuantActivation).quantizer, { name: 'swish_sign', beta: 3 });
  const probe = tf.randomNormal([2, 4, 4, 2], 0, 1, 'float32', 3);
  assert.deepEqual(values(loaded.predict(probe) as tf.Tensor), values(model.predict(probe) as tf.Tensor));
  // an older model's config: quantizers as bare names
  const oldTopology = topology.replace('{"class_name":"ApproxSign","config":{}}', '"approx_sign"');
  assert.notEqual(oldTopology, topology);
  const old = JSON.parse(oldTopology);
  const fromOld = await tf.loadLayersModel(tf.io.fromMemory({ ...saved, modelTopology: old }));
  assert.deepEqual((fromOld.getLayer('c') as QuantConv2D).kernelQuantizer, { name: 'approx_sign' });
});

test('a magnitude-aware QuantConv2D scales after its ±1 convolution: the output and every gradient of conv(x, magnitude_aware_sign(w)), and a one-channel input at inference summed tap by tap', () => {
  const x4 = tf.randomNormal([2, 5, 6, 3], 0, 1, 'float32', 4) as tf.Tensor4D;
  const layer = new QuantConv2D({ filters: 4, kernelSize: [1, 3], kernelQuantizer: { name: 'magnitude_aware_sign', clipValue: 1 }, seed: 2 });
  layer.apply(tf.input({ shape: [5, 6, 3] }));
  const w = layer.getWeights()[0];
  const mas = quantizer('magnitude_aware_sign')!;
  const reference = (xs: tf.Tensor, ws: tf.Tensor) => tf.conv2d(xs as tf.Tensor4D, mas(ws) as tf.Tensor4D, 1, 'same');
  close(values(layer.apply(x4, { training: true }) as tf.Tensor), values(reference(x4, w)), 1e-5, 'forward');
  // gradients: the layer's (through its kernel variable) against the quantizer's, for a weighted sum of the output
  const dy4 = tf.randomNormal([2, 5, 6, 4], 0, 1, 'float32', 5);
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x4, { training: true }) as tf.Tensor, dy4)) as tf.Scalar);
  const [viaLayer] = Object.values(grads);
  const viaQuantizer = tf.grad((ws: tf.Tensor) => tf.sum(tf.mul(reference(x4, ws), dy4)))(w);
  close(values(viaLayer), values(viaQuantizer), 1e-4, 'kernel gradient (the scale held constant, as Larq stops it)');
  const dx = tf.grad((xs: tf.Tensor) => tf.sum(tf.mul(layer.apply(xs, { training: true }) as tf.Tensor, dy4)))(x4);
  close(values(dx), values(tf.grad((xs: tf.Tensor) => tf.sum(tf.mul(reference(xs, w), dy4)))(x4)), 1e-4, 'input gradient');
  // one input channel, at inference: nine products and eight sums, each rounded, taps row by row
  const stem = new QuantConv2D({ filters: 2, kernelSize: [3, 3], seed: 3 });
  const x1 = tf.randomNormal([1, 4, 5, 1], 0, 3, 'float32', 6);
  const y = values(stem.apply(x1) as tf.Tensor);
  const [k, input] = [values(stem.getWeights()[0]), values(x1)];
  const f = Math.fround;
  for (let i = 0; i < 4; i++) {
    for (let j = 0; j < 5; j++) {
      for (let c = 0; c < 2; c++) {
        let s: number | null = null;
        for (let t = 0; t < 9; t++) {
          const [a, b] = [i + Math.floor(t / 3) - 1, j + (t % 3) - 1];
          const p = f((a >= 0 && a < 4 && b >= 0 && b < 5 ? input[a * 5 + b] : 0) * k[t * 2 + c]);
          s = s === null ? p : f(s + p);
        }
        assert.equal(y[(i * 5 + j) * 2 + c], s, `position ${i},${j} channel ${c}`);
      }
    }
  }
});
