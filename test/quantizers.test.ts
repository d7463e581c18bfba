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
