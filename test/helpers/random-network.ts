import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import type { PackedEngine } from '../../src/engine/packed-engine.ts';
import { exitFor, neverEarly, type ExitRule } from '../../src/spec/exit-rules.ts';
import { BatchNorm } from '../../src/model/batch-norm.ts';
import { QuantActivation } from '../../src/model/layers.ts';
import { buildNetwork, networkConfig } from '../../src/model/network.ts';
import { RPReLU } from '../../src/model/rprelu.ts';
import { mulberry32 } from '../../src/util/rng.ts';

/** Log-mel-like clips: values around -2 with a spread of a few units, as real features have. */
export function logMelLike(count: number, seed: number): Float32Array {
  const rng = mulberry32(seed);
  return Float32Array.from({ length: count * 98 * 64 }, () => -6 + 8 * rng() + 2 * rng());
}

/**
 * A network of any family with random weights whose BatchNorm statistics are set, layer after
 * layer, near the statistics of what each one sees on `inputs` (moved by a random fraction of a
 * deviation, gamma sometimes negative or 0), so that signs fall on both sides everywhere as in a
 * trained network, and random RSign shifts and RPReLU weights.
 */
export function randomNetwork(options: Partial<Parameters<typeof networkConfig>[0]>, seed: number, inputs: Float32Array): tf.LayersModel {
  const rng = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const model = buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 5, seed, ...options }));
  const n = inputs.length / (98 * 64);
  const x = tf.tensor4d(inputs, [n, 98, 64, 1]);
  const vector = (c: number, f: () => number) => tf.tensor1d(Array.from({ length: c }, f));
  for (const layer of model.layers) {
    const c = layer.getWeights()[0]?.shape.at(-1) ?? 0;
    if (layer instanceof QuantActivation && layer.shift) layer.setWeights([vector(c, () => 0.4 * normal())]);
    if (layer instanceof RPReLU) layer.setWeights([vector(c, () => 0.3 * normal()), vector(c, () => 0.25 + 0.2 * normal()), vector(c, () => 0.3 * normal())]);
    if (layer.name.endsWith('_hidden')) layer.setWeights([layer.getWeights()[0], vector(c, () => 0.5 * normal())]);
    if (!(layer instanceof BatchNorm)) continue;
    const probe = tf.model({ inputs: model.inputs, outputs: layer.input as tf.SymbolicTensor });
    const { mean, variance } = tf.tidy(() => {
      const seen = probe.predict(x) as tf.Tensor;
      const m = tf.moments(seen, [...Array(seen.rank - 1).keys()]); // every axis but the channels'
      return { mean: m.mean.dataSync(), variance: m.variance.dataSync() };
    });
    const sd = Array.from(variance, (v) => Math.sqrt(v) || 1);
    layer.setWeights([
      vector(c, () => (rng() < 0.1 ? 0 : normal())),
      vector(c, () => 0.3 * normal()),
      tf.tensor1d(Array.from(mean, (m, i) => m + 0.3 * sd[i] * normal())),
      tf.tensor1d(sd.map((s) => s * s * (0.5 + rng()))),
    ]);
  }
  x.dispose();
  return model;
}

/**
 * The packed engine against the tfjs model on `n` clips of x: every exit's softmax within 1e-5
 * with no early exit, and the same exit as tfjs's softmax gives under a max-softmax rule.
 */
export function assertEngineMatches(engine: PackedEngine, model: tf.LayersModel, x: Float32Array, n: number): void {
  const expected = tf.tidy(() => (model.predict(tf.tensor4d(x, [n, 98, 64, 1])) as tf.Tensor[]).map((l) => tf.softmax(l).arraySync() as number[][]));
  for (let i = 0; i < n; i++) {
    const clip = x.subarray(i * 98 * 64, (i + 1) * 98 * 64);
    assert.equal(engine.run(clip, neverEarly(4)), 4);
    for (let k = 0; k < 4; k++) {
      const want = expected[k][i];
      const worst = Math.max(...want.map((p, j) => Math.abs(p - engine.probabilities[k][j])));
      assert.ok(worst < 1e-5, `clip ${i} exit ${k + 1}: softmax differs by ${worst}`);
    }
    const rule: ExitRule = { criterion: 'max-softmax', thresholds: [0.3, 0.3, 0.3] };
    assert.equal(
      engine.run(clip, rule),
      exitFor(
        expected.map((e) => e[i]),
        rule,
      ),
    );
  }
}
