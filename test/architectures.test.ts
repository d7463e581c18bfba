import assert from 'node:assert/strict';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend.ts';
import { crc32 } from '../src/engine/crc32.ts';
import { engineFor } from '../src/engine/engine-for.ts';
import { packModel } from '../src/convert/pack.ts';
import { decodePacked, encodePacked } from '../src/engine/format.ts';
import { readPackedFile } from '../src/engine/packed-file.ts';
import { ResidualEngine } from '../src/engine/residual-engine.ts';
import { neverEarly } from '../src/spec/exit-rules.ts';
import { TfjsClassifier } from '../src/exits/tfjs-classifier.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { ARCH_NAMES } from '../src/spec/families.ts';
import { modelCost } from '../src/model/costs.ts';
import { layerName } from '../src/spec/layer-names.ts';
import { buildNetwork, networkConfig, type NetworkConfig } from '../src/model/network.ts';
import { RPReLU } from '../src/model/rprelu.ts';
import { loadModelDir, MODEL_FORMAT_VERSION, type ModelMeta, writeModelDir } from '../src/model/saved-model.ts';
import { assertOneLineError, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset } from './helpers/tones.ts';
import { assertEngineMatches, logMelLike, randomNetwork } from './helpers/random-network.ts';

before(async () => {
  await initBackend();
});

const metaOf = (network: NetworkConfig): ModelMeta => ({
  format: 'bee-model',
  formatVersion: MODEL_FORMAT_VERSION,
  beeVersion: 'test',
  labels: ['a', 'b', 'c', 'd', 'e'],
  features: PAPER_FEATURES,
  network,
  versions: {},
});

test('RPReLU: PReLU(x - gamma) + zeta and its gradients, by hand', () => {
  const layer = new RPReLU({});
  const x = tf.tensor4d([0.5, -1, 2, -0.25], [1, 1, 2, 2]);
  layer.apply(x); // builds it
  layer.setWeights([tf.tensor1d([1, -0.5]), tf.tensor1d([0.25, 0.1]), tf.tensor1d([0.3, -0.2])]);
  // channel 0: gamma 1, slope 0.25, zeta 0.3; channel 1: gamma -0.5, slope 0.1, zeta -0.2
  // x - gamma: -0.5, -0.5 | 1, 0.25 -> y: 0.25 * -0.5 + 0.3, 0.1 * -0.5 - 0.2 | 1 + 0.3, 0.25 - 0.2
  const y = (layer.apply(x) as tf.Tensor).dataSync();
  [0.175, -0.25, 1.3, 0.05].forEach((v, i) => assert.ok(Math.abs(y[i] - v) < 1e-6, `y[${i}] = ${y[i]}, want ${v}`));
  const [gamma, slope, zeta] = layer.trainableWeights.map((w) => w.read());
  const grads = tf.grads((xs: tf.Tensor, g: tf.Tensor, s: tf.Tensor, z: tf.Tensor) => tf.sum(tf.add(tf.prelu(tf.sub(xs, g), s), z)))([x, gamma, slope, zeta]);
  // dy/dx = 1 where x - gamma >= 0, else the slope; dy/dgamma = -dy/dx; dy/dslope = x - gamma where negative; dy/dzeta = 1
  assert.deepEqual(Array.from(grads[0].dataSync()), [0.25, 0.1, 1, 1].map(Math.fround));
  assert.deepEqual(Array.from(grads[1].dataSync()), [-1.25, -1.1].map(Math.fround));
  assert.deepEqual(Array.from(grads[2].dataSync()), [-0.5, -0.5]);
  assert.deepEqual(Array.from(grads[3].dataSync()), [2, 2]);
});

test('the four families have binary MACs within 15% of the bee block, and float twins as many MACs in float', () => {
  const macs = (arch: NetworkConfig['arch'], precision: 'binary' | 'float') => {
    const model = buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 12, arch, precision }));
    const { totals } = modelCost(model);
    model.dispose();
    return totals;
  };
  const bee = macs('bee', 'binary').binaryMacs;
  for (const arch of ARCH_NAMES) {
    const binary = macs(arch, 'binary');
    assert.ok(Math.abs(binary.binaryMacs / bee - 1) <= 0.15, `${arch}: ${binary.binaryMacs} binary MACs, bee ${bee}`);
    const float = macs(arch, 'float');
    assert.equal(float.binaryMacs, 0);
    assert.equal(float.floatMacs, binary.binaryMacs + binary.floatMacs, `${arch}: the float twin is the same network`);
  }
});

for (const arch of ARCH_NAMES) {
  for (const precision of ['binary', 'float'] as const) {
    test(`${arch} (${precision}) builds, saves and reloads with identical outputs, staged as whole`, async () => {
      const network = networkConfig({ inputShape: [98, 64, 1], classes: 5, arch, precision, width: 0.25, seed: 2 });
      const x = logMelLike(3, 7);
      const model = randomNetwork({ arch, precision, width: 0.25, seed: 2 }, 2, x);
      const dir = path.join(tempDir(), 'model');
      await writeModelDir(dir, model, metaOf(network));
      const loaded = await loadModelDir(dir);
      assert.equal(loaded.meta.network.arch, arch);
      const input = tf.tensor4d(x, [3, 98, 64, 1]);
      const before = (model.predict(input) as tf.Tensor[]).map((t) => Array.from(t.dataSync()));
      const after = (loaded.model.predict(input) as tf.Tensor[]).map((t) => Array.from(t.dataSync()));
      assert.deepEqual(after, before);
      // Block by block (bee eval's tfjs engine) gives what the whole network gives.
      const staged = new TfjsClassifier(loaded.model, undefined, arch);
      const { probs } = staged.classify(x.subarray(0, 98 * 64), neverEarly(4));
      const softmax = tf.tidy(() => (loaded.model.predict(input) as tf.Tensor[]).map((l) => tf.softmax(l).arraySync() as number[][]));
      probs.forEach((p, k) => assert.ok(Math.max(...Array.from(p, (v, j) => Math.abs(v - softmax[k][0][j]))) < 1e-6, `exit ${k + 1}`));
      input.dispose();
      model.dispose();
      staged.dispose();
    });
  }
}

const PACKED: [string, Parameters<typeof randomNetwork>[0]][] = [
  ['bireal, paper width', { arch: 'bireal' }],
  ['reactnet, paper width', { arch: 'reactnet' }],
  ['xnor, paper width', { arch: 'xnor' }],
  ['bireal, channels not a multiple of 32, the paper head', { arch: 'bireal', filters: [12, 24, 40, 72], exitHead: { type: 'paper' } }],
  [
    'reactnet, channels not a multiple of 32, a hidden exit layer',
    { arch: 'reactnet', filters: [20, 36, 64, 100], exitHead: { type: 'pooled', grid: [3, 2], hidden: 12 } },
  ],
  [
    'reactnet, a BatchNorm before a hidden exit layer',
    { arch: 'reactnet', filters: [32, 64, 128, 256], exitHead: { type: 'pooled', grid: [4, 2], hidden: 16, norm: true } },
  ],
  ['bireal with RSign shifts', { arch: 'bireal', filters: [24, 48, 96, 192], signShift: true }],
];

/**
 * Whether the backend's (1x1) convolution sums its input channels one FMA at a time, in order: what
 * bireal's real shortcut is in the model, and what the residual engine computes. oneDNN picks its
 * kernel by CPU: on an AMD EPYC with AVX-512 BF16 and VNNI it sums blocks of 16 channels, then the
 * blocks (measured), and the shortcut's last bits differ there.
 */
function convSumsInOrder(): boolean {
  const k = 48;
  const x = tf.randomNormal([1, 4, 4, k], 0, 1, 'float32', 1);
  const w = tf.randomNormal([1, 1, k, 8], 0, 0.1, 'float32', 2);
  const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dataSync();
  const [xs, ws] = [x.dataSync(), w.dataSync()];
  tf.dispose([x, w]);
  for (let p = 0; p < 16; p++)
    for (let c = 0; c < 8; c++) {
      let acc = 0;
      for (let i = 0; i < k; i++) acc = Math.fround(acc + xs[p * k + i] * ws[i * 8 + c]);
      if (acc !== y[p * 8 + c]) return false;
    }
  return true;
}

for (const [what, options] of PACKED) {
  test(`packed = tfjs on random networks: ${what}`, (t) => {
    const n = 6;
    const x = logMelLike(n, 11);
    const model = randomNetwork(options, 5, x);
    const network = networkConfig({ inputShape: [98, 64, 1], classes: 5, seed: 5, ...options });
    const bytes = encodePacked(packModel(model, metaOf(network)).packed);
    const residual = network.arch === 'bireal' || network.arch === 'reactnet';
    assert.equal(new DataView(bytes.buffer).getUint32(4, true), residual ? 5 : 2, 'the oldest version that holds it');
    const engine = engineFor(decodePacked(bytes));
    assert.equal(engine instanceof ResidualEngine, residual);
    assertEngineMatches(engine, model, x, n);
    if (engine instanceof ResidualEngine) {
      const inOrder = network.arch === 'reactnet' || convSumsInOrder();
      // out of order, stage 1 still matches: its shortcut reads the stem's 16 channels, one block
      if (!inOrder) t.diagnostic("stages 2-4 not compared bit for bit: this CPU's oneDNN sums a (1x1) convolution's channels out of order");
      assertStagesBitExact(engine, model, x, n, inOrder ? 4 : 1);
    }
    model.dispose();
  });
}

/** Every stage's real output h in the residual engine is the model's, float32 for float32, on every clip. */
function assertStagesBitExact(engine: ResidualEngine, model: tf.LayersModel, x: Float32Array, n: number, stages = 4): void {
  const arch = (model.layers.some((l) => l instanceof RPReLU) ? 'reactnet' : 'bireal') as 'bireal' | 'reactnet';
  const outputs = [1, 2, 3, 4].map((b) => model.getLayer(arch === 'reactnet' ? layerName.rprelu31(b) : layerName.add31(b)).output as tf.SymbolicTensor);
  const probe = tf.model({ inputs: model.inputs, outputs });
  const expected = tf.tidy(() => (probe.predict(tf.tensor4d(x, [n, 98, 64, 1])) as tf.Tensor[]).map((t) => t.dataSync() as Float32Array));
  for (let i = 0; i < n; i++) {
    engine.run(x.subarray(i * 98 * 64, (i + 1) * 98 * 64), neverEarly(4));
    for (let k = 0; k < stages; k++) {
      const got = engine.stageOutput(k);
      const want = expected[k].subarray(i * got.length, (i + 1) * got.length);
      const differ = got.filter((v, j) => v !== want[j]).length;
      assert.equal(differ, 0, `clip ${i} stage ${k + 1}: ${differ} of ${got.length} activations differ from the model's`);
    }
  }
}

test('residual .bee files of version 4 (bee 0.2.0: kernel scales folded into the BatchNorm) still load and agree', async () => {
  const fixtures = path.join(import.meta.dirname, 'fixtures', 'packed-v4');
  const x = logMelLike(3, 17);
  for (const arch of ['bireal', 'reactnet']) {
    const { model } = await loadModelDir(path.join(fixtures, arch));
    const packed = readPackedFile(path.join(fixtures, `${arch}.bee`));
    assert.equal(packed.tensors.get('block1.conv1x1.alpha')?.[0], 1, 'alpha 1: the scale holds it');
    assertEngineMatches(engineFor(packed), model, x, 3);
    model.dispose();
  }
});

test('a .bee file of version 3 or older cannot hold a residual network', () => {
  const network = networkConfig({ inputShape: [98, 64, 1], classes: 5, arch: 'reactnet', width: 0.25 });
  const x = logMelLike(2, 3);
  const bytes = encodePacked(packModel(randomNetwork({ arch: 'reactnet', width: 0.25 }, 1, x), metaOf(network)).packed);
  const view = new DataView(bytes.buffer);
  view.setUint32(4, 3, true);
  view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
  assert.throws(() => decodePacked(bytes), /version 3 file cannot hold a reactnet network/);
});

test('bee train --arch: an unknown family, and a binary first block where the family has a real stem, are one-line errors', () => {
  const bee = beeWithCache(tempDir('bee-cache-'));
  const data = tempDir('bee-tones-');
  makeToneDataset(data, undefined, 2, 2);
  const out = path.join(tempDir(), 'run');
  assertOneLineError(bee('train', '--data', data, '--out', out, '--arch', 'resnet'), /--arch.*'resnet' is invalid.*bee, xnor, bireal, reactnet/);
  assertOneLineError(bee('train', '--data', data, '--out', out, '--arch', 'reactnet', '--first-block', 'binary'), /reactnet's first stage is a real stem/);
});
