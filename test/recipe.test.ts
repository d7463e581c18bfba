import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend.ts';
import { BlockEngine } from '../src/engine/block-engine.ts';
import { packModel } from '../src/convert/pack.ts';
import { readPackedFile } from '../src/engine/packed-file.ts';
import { neverEarly } from '../src/spec/exit-rules.ts';
import { gridCuts } from '../src/spec/exit-grid.ts';
import { ExitPooling } from '../src/model/exit-pooling.ts';
import { QuantActivation, QuantConv2D } from '../src/model/layers.ts';
import { LEGACY_NETWORK } from '../src/spec/network-config.ts';
import { magnitudeAwareSign } from '../src/model/quantizers.ts';
import { loadModelDir } from '../src/model/saved-model.ts';
import { applyMasks, drawMasks } from '../src/data/augment.ts';
import { distillationLoss } from '../src/train/distill.ts';
import { defaultBatchSize, exitWeightsAt, learningRateAt, runLearningRate } from '../src/train/recipe.ts';
import { mulberry32 } from '../src/util/rng.ts';
import { beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';

const bee = (...args: string[]) => beeWithCache(tempDir('bee-cache-'))(...args);

before(async () => {
  await initBackend();
});

const values = (t: tf.Tensor) => Array.from(t.dataSync());
const close = (a: number[], b: number[], tol: number, what: string) => {
  assert.equal(a.length, b.length, `${what}: length`);
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]) <= tol, `${what}[${i}]: ${v} vs ${b[i]}`));
};
const softmax = (z: number[]) => {
  const m = Math.max(...z);
  const e = z.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b);
  return e.map((v) => v / s);
};

test('distillation: T^2 * KL(softmax(teacher/T) || softmax(student/T)), batch mean; no gradient to the teacher', () => {
  const teacher = [
    [2, 0, -1],
    [0.5, 0.5, 3],
  ];
  const student = [
    [0, 1, 0],
    [1, -2, 0.5],
  ];
  const T = 2;
  const kl = teacher.map((t, i) => {
    const p = softmax(t.map((v) => v / T));
    const q = softmax(student[i].map((v) => v / T));
    return p.reduce((n, pj, j) => n + pj * Math.log(pj / q[j]), 0);
  });
  const expected = (T * T * (kl[0] + kl[1])) / 2;
  const t = tf.tensor2d(teacher);
  const s = tf.tensor2d(student);
  close([distillationLoss(t, s, T).dataSync()[0]], [expected], 1e-5, 'loss');
  assert.equal(distillationLoss(t, t, T).dataSync()[0] < 1e-6, true, 'zero when the student agrees');
  const [dTeacher, dStudent] = tf.grads((a: tf.Tensor, b: tf.Tensor) => distillationLoss(a, b, T))([t, s]);
  assert.deepEqual(values(dTeacher), [0, 0, 0, 0, 0, 0]);
  // d/ds_j of T^2 KL = T (q_j - p_j), over a batch of 2
  const manual = teacher.flatMap((tt, i) => {
    const p = softmax(tt.map((v) => v / T));
    const q = softmax(student[i].map((v) => v / T));
    return q.map((qj, j) => (T * (qj - p[j])) / 2);
  });
  close(values(dStudent), manual, 1e-5, 'student gradient');
});

test('exit pooling: max, mean and grid means per channel, in runs of C values', () => {
  // 4 x 2 positions, 2 channels: channel 0 = 1..8 row-major, channel 1 = its negative
  const ch0 = [1, 2, 3, 4, 5, 6, 7, 8];
  const x = tf.tensor4d(
    ch0.flatMap((v) => [v, -v]),
    [1, 4, 2, 2],
  );
  const layer = new ExitPooling({ grid: [2, 1] });
  const y = values(layer.apply(x) as tf.Tensor);
  // rows [0, 2) and [2, 4): cells hold 1..4 and 5..8
  assert.deepEqual(y, [8, -1, 4.5, -4.5, 2.5, -2.5, 6.5, -6.5]);
  assert.deepEqual(layer.computeOutputShape([null, 4, 2, 2]), [null, 8]);
  // uneven cells: 5 rows in 2 cells are rows [0, 2) and [2, 5)
  assert.deepEqual(gridCuts(5, 2), [0, 2, 5]);
  const five = values(new ExitPooling({ grid: [2, 1] }).apply(tf.tensor4d([1, 2, 3, 4, 5], [1, 5, 1, 1])) as tf.Tensor);
  close(five, [5, 3, 1.5, 4], 1e-6, 'uneven');
  assert.throws(() => gridCuts(3, 4), /cannot split 3 positions into 4 cells/);
  // d sum / dx of channel 1: 1/8 (mean) + 1/4 (its cell of 4) everywhere, + 1 where its max (-1) is
  const g = values(tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t) as tf.Tensor))(x));
  close(
    g.filter((_, i) => i % 2 === 1),
    [1 + 3 / 8, 3 / 8, 3 / 8, 3 / 8, 3 / 8, 3 / 8, 3 / 8, 3 / 8],
    1e-6,
    'channel 1 gradient',
  );
  // training computes the means as one product with its own gradient: the same values
  const trained = values(tf.grad((t: tf.Tensor) => tf.sum(layer.apply(t, { training: true }) as tf.Tensor))(x));
  close(trained, g, 1e-6, 'gradient in training');
});

test('magnitude-aware sign: alpha_c * sign(w) with alpha_c = mean |w| per output channel; gradient alpha_c * dy * (|w| <= 1)', () => {
  // [1, 1, 3 inputs, 2 outputs]
  const w = tf.tensor4d([0.5, -2, -0.25, 0.1, 0, 0.3], [1, 1, 3, 2]);
  const alpha = [(0.5 + 0.25 + 0) / 3, (2 + 0.1 + 0.3) / 3];
  close(values(magnitudeAwareSign(w)), [alpha[0], -alpha[1], -alpha[0], alpha[1], alpha[0], alpha[1]], 1e-6, 'forward');
  const dy = tf.tensor4d([1, 2, 3, 4, 5, 6], [1, 1, 3, 2]);
  const g = values(tf.grad((k: tf.Tensor) => magnitudeAwareSign(k))(w, dy));
  close(g, [alpha[0] * 1, 0, alpha[0] * 3, alpha[1] * 4, alpha[0] * 5, alpha[1] * 6], 1e-6, 'gradient');
  // in a layer: serialized with its parameter; the bare names of older configs still read
  const conv = new QuantConv2D({ filters: 2, kernelSize: [1, 1], kernelQuantizer: 'magnitude_aware_sign' });
  assert.deepEqual(conv.getConfig().kernelQuantizer, { className: 'MagnitudeAwareSign', config: { clipValue: 1 } });
  assert.deepEqual(new QuantConv2D({ filters: 2, kernelSize: [1, 1], kernelQuantizer: 'magnitudeAwareSign' as never }).kernelQuantizer, {
    name: 'magnitude_aware_sign',
    clipValue: 1,
  });
});

test('sign shift (RSign): sign(x - b_c); b_c gets -dy * (|x - b_c| <= 1)', () => {
  const layer = new QuantActivation({ quantizer: 'ste_sign', shift: true });
  const x = tf.tensor2d([
    [0.2, -0.5],
    [1.5, 0.4],
  ]);
  layer.apply(x);
  layer.setWeights([tf.tensor1d([0.3, -1])]);
  assert.deepEqual(values(layer.apply(x) as tf.Tensor), [-1, 1, 1, 1]);
  const dy = tf.tensor2d([
    [1, 2],
    [3, 4],
  ]);
  const shift = layer.trainableWeights[0].read() as tf.Variable;
  const { grads } = tf.variableGrads(() => tf.sum(tf.mul(layer.apply(x) as tf.Tensor, dy)) as tf.Scalar, [shift]);
  // x - b = [[-0.1, 0.5], [1.2, 1.4]]: inside [-1, 1] at (0,0) and (0,1) only
  close(values(Object.values(grads)[0]), [-1, -2], 1e-6, 'shift gradient');
  assert.equal(layer.getConfig().shift, true);
});

test('recipe: warmup then cosine to 0, exit-weight ramp, batch size for small data', () => {
  const o = { schedule: 'cosine' as const, learningRate: 0.01, warmupEpochs: 1 };
  // 10 steps an epoch, 50 steps: warmup over steps 0-9, cosine from step 10 to 50
  close([learningRateAt(o, 0, 10, 50), learningRateAt(o, 9, 10, 50)], [0.01 / 11, 0.01 * (10 / 11)], 1e-12, 'warmup');
  close(
    [learningRateAt(o, 10, 10, 50), learningRateAt(o, 30, 10, 50), learningRateAt(o, 49, 10, 50)],
    [0.01, 0.005, 0.01 * 0.5 * (1 + Math.cos((Math.PI * 39) / 40))],
    1e-12,
    'cosine',
  );
  assert.equal(learningRateAt({ ...o, schedule: 'constant', warmupEpochs: 0 }, 37, 10, 50), 0.01);
  // a 5-epoch run resumed to 7: its 5 epochs keep their curve, the 2 added get a cycle without warmup
  const run = { ...o, epochs: 7, scheduleEpochs: 5 };
  assert.equal(runLearningRate(run, 30, 10), learningRateAt(o, 30, 10, 50));
  close([runLearningRate(run, 50, 10), runLearningRate(run, 60, 10)], [0.01, 0.005], 1e-12, 'warm restart');
  assert.deepEqual(exitWeightsAt([1, 2, 1, 1], 4, 1), [0.25, 0.5, 0.25, 1]);
  assert.deepEqual(exitWeightsAt([1, 2, 1, 1], 4, 9), [1, 2, 1, 1]);
  assert.deepEqual(exitWeightsAt([1, 1, 1, 1], 0, 1), [1, 1, 1, 1]);
  assert.equal(defaultBatchSize(100_000), 128);
  assert.equal(defaultBatchSize(3646), 64);
  assert.equal(defaultBatchSize(2000), 32);
});

test('SpecAugment: masked frames and mel bins take the clip mean, the rest is untouched', () => {
  const frames = 6;
  const bins = 4;
  const x = Float32Array.from({ length: frames * bins }, (_, i) => i);
  const masks = { time: [[1, 2]] as [number, number][], freq: [[3, 1]] as [number, number][] };
  const y = x.slice();
  applyMasks(y, masks, bins);
  const mean = (frames * bins - 1) / 2;
  for (let f = 0; f < frames; f++) {
    for (let b = 0; b < bins; b++) {
      const masked = f === 1 || f === 2 || b === 3;
      assert.equal(y[f * bins + b], masked ? mean : x[f * bins + b], `frame ${f} bin ${b}`);
    }
  }
  const drawn = drawMasks(mulberry32(3), { timeMasks: 3, maxTimeMask: 10, freqMasks: 2, maxFreqMask: 8 }, 98, 64);
  assert.equal(drawn.time.length, 3);
  assert.ok(drawn.time.every(([s, n]) => n <= 10 && s >= 0 && s + n <= 98));
  assert.ok(drawn.freq.every(([s, n]) => n <= 8 && s >= 0 && s + n <= 64));
});

test('models saved by bee 0.1 (a model directory and a version 1 .bee file) still load and agree', async () => {
  const fixtures = path.join(import.meta.dirname, 'fixtures', 'bee-0.1');
  const { model, meta } = await loadModelDir(path.join(fixtures, 'model'));
  const { arch, exitHead, bnMomentum, realFirstBlock, scaledKernels, signShift } = meta.network;
  assert.deepEqual(
    { arch, exitHead, bnMomentum, realFirstBlock, scaledKernels, signShift },
    LEGACY_NETWORK,
    'a config without the new fields means the old network',
  );
  const old = new BlockEngine(readPackedFile(path.join(fixtures, 'model.bee')));
  const repacked = new BlockEngine(packModel(model, meta).packed);
  const x = Float32Array.from({ length: 98 * 64 }, (_, i) => -6 + 4 * Math.sin(i / 7));
  const want = tf.tidy(() => (model.predict(tf.tensor4d(x, [1, 98, 64, 1])) as tf.Tensor[]).map((l) => values(tf.softmax(l))));
  for (const engine of [old, repacked]) {
    engine.run(x, neverEarly(4));
    want.forEach((p, k) => close(Array.from(engine.probabilities[k]), p, 1e-5, `exit ${k + 1}`));
  }
  model.dispose();
});

test('bee 0.1 models through the CLI: summary, export, predict on the old directory and the old .bee file', () => {
  const fixtures = path.join(import.meta.dirname, 'fixtures', 'bee-0.1');
  const wav = path.join(import.meta.dirname, 'fixtures', 'yes-16k.wav');
  const summary = bee('summary', '--model', path.join(fixtures, 'model'), '--json');
  assert.equal(summary.status, 0, summary.stderr);
  assert.equal(JSON.parse(summary.stdout).layers.find((l: { name: string }) => l.name === 'exit1_pool').type, 'GlobalMaxPooling2D');
  const out = path.join(tempDir(), 'again.bee');
  assert.equal(bee('export', '--model', path.join(fixtures, 'model'), '--out', out).status, 0);
  const answers = [path.join(fixtures, 'model'), path.join(fixtures, 'model.bee'), out].map((model) => {
    const r = bee('predict', wav, '--model', model, '--threshold', '1', '--json');
    assert.equal(r.status, 0, r.stderr);
    const [p] = JSON.parse(r.stdout);
    return [p.label, p.exit, p.confidence.toFixed(5)];
  });
  assert.deepEqual(answers[1], answers[0], 'the version 1 file answers as the directory does');
  assert.deepEqual(answers[2], answers[0], 'and so does the directory exported again (version 2)');
});
