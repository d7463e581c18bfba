import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { splitExamples } from '../src/data/split-examples.ts';
import { loadFeatures } from '../src/data/feature-cache.ts';
import { featuresOf } from '../src/spec/classifier.ts';
import { BlockEngine } from '../src/engine/block-engine.ts';
import { engineFor } from '../src/engine/engine-for.ts';
import { packModel } from '../src/convert/pack.ts';
import { floatBelow, floatKey, keyFloat } from '../src/engine/float-order.ts';
import { crc32 } from '../src/engine/crc32.ts';
import { decodePacked, encodePacked } from '../src/engine/format.ts';
import { outcomesFromProbabilities } from '../src/exits/evaluate.ts';
import { openModel } from '../src/exits/open-model.ts';
import type { ExitRule } from '../src/spec/exit-rules.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { QuantActivation } from '../src/model/layers.ts';
import { buildNetwork, DEFAULT_NETWORK, layerName, networkConfig, PAPER_FILTERS, pooledExitHead, type NetworkConfig } from '../src/model/network.ts';
import { LEGACY_NETWORK } from '../src/spec/network-config.ts';
import { loadModelDir, type ModelMeta } from '../src/model/saved-model.ts';
import { mulberry32 } from '../src/util/rng.ts';
import { train } from '../src/train/trainer.ts';
import { assertOneLineError, beeWithCache } from './helpers/cli.ts';
import { sharedSkip, SHARED_TEST_SET, tempDir } from './helpers/datasets.ts';
import { assertEngineMatches, logMelLike } from './helpers/random-network.ts';
import { makeToneDataset } from './helpers/tones.ts';

let cache: string;
const bee = (...args: string[]) => beeWithCache(cache)(...args);
let run: string;

before(async () => {
  await initBackend();
  cache = tempDir('bee-cache-');
  const dataRoot = tempDir('bee-tones-');
  makeToneDataset(dataRoot, undefined, 24, 4);
  const dataset = loadDataset(dataRoot, { split: { salt: 'bee', validationPercent: 20, testPercent: 20 } });
  const table = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir: cache });
  run = path.join(tempDir(), 'run');
  await train({
    dataset,
    table,
    out: run,
    options: { epochs: 4, batchSize: 8, learningRate: 3e-3, exitWeights: [1, 1, 1, 1], seed: 3, precision: 'binary', width: 0.25, augment: false },
  });
});

/**
 * A binary network with random weights and BatchNorm statistics spread around the range of its
 * inputs, so that thresholds fall everywhere: negative gamma (flipped signs), zero gamma (constant
 * channels), and means and variances at the scale of each layer's dot products.
 */
function randomBinaryNetwork(filters: number[], seed: number, options: Partial<NetworkConfig> = {}): { model: tf.LayersModel; meta: ModelMeta } {
  const rng = mulberry32(seed);
  const normal = () => Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  const config = { ...networkConfig({ inputShape: [98, 64, 1], classes: 5, seed, arch: 'bee', ...options }), filters };
  const model = buildNetwork(config);
  // Hidden exit layers' biases away from 0, so that some units are cut by the ReLU and some not.
  for (const layer of model.layers)
    if (layer.name.endsWith('_hidden'))
      layer.setWeights([layer.getWeights()[0], tf.tensor1d(Array.from({ length: layer.getWeights()[1].size }, () => 0.5 * normal()))]);
  // Learnable sign thresholds (RSign) away from 0, so that folding them matters.
  for (const layer of model.layers)
    if (layer instanceof QuantActivation && layer.shift)
      layer.setWeights([tf.tensor1d(Array.from({ length: layer.getWeights()[0].size }, () => 0.4 * normal()))]);
  const setBatchNorm = (name: string, scale: number) => {
    const layer = model.getLayer(name);
    const c = layer.getWeights()[0].shape[0];
    const gamma = Array.from({ length: c }, (_, i) => (i % 10 === 3 ? 0 : normal()));
    const beta = Array.from({ length: c }, () => 0.3 * normal());
    const mean = Array.from({ length: c }, () => 0.5 * scale * normal());
    const variance = Array.from({ length: c }, () => scale * scale * (0.5 + rng()));
    layer.setWeights([gamma, beta, mean, variance].map((v) => tf.tensor1d(v)));
  };
  filters.forEach((f, i) => {
    const b = i + 1;
    const dot = (n: number) => Math.sqrt(n);
    setBatchNorm(layerName.bn13(b), b === 1 ? 5 : dot(3 * (filters[i - 1] ?? 1)));
    setBatchNorm(layerName.bn31(b), b === 1 ? 5 : dot(3 * (filters[i - 1] ?? 1)));
    // A scaled kernel's dot products are alpha times larger: the statistics follow (alpha ~ glorot's mean |w|).
    const alpha = config.scaledKernels ? 0.5 * Math.sqrt(6 / (3 * (filters[i - 1] ?? 1) + 3 * f)) : 1;
    setBatchNorm(layerName.bn(b), 2 * dot(2 * f) * alpha);
  });
  const meta = { labels: ['a', 'b', 'c', 'd', 'e'], features: PAPER_FEATURES, network: config } as ModelMeta;
  return { model, meta };
}

const VARIANTS: [string, number[], Partial<NetworkConfig>][] = [
  ["paper width, the paper's head, binary first block", PAPER_FILTERS, LEGACY_NETWORK],
  ["channels not a multiple of 32, the paper's head", [12, 24, 48, 96], LEGACY_NETWORK],
  ['paper width, pooled head, real first block', PAPER_FILTERS, { exitHead: { type: 'pooled', grid: [4, 2] }, realFirstBlock: true }],
  ['channels not a multiple of 32, pooled 3x3 head', [12, 24, 48, 96], { exitHead: { type: 'pooled', grid: [3, 3] }, realFirstBlock: true }],
  [
    'scaled kernels and sign shifts, binary first block',
    [16, 40, 64, 96],
    { exitHead: { type: 'pooled', grid: [4, 2] }, realFirstBlock: false, scaledKernels: true, signShift: true },
  ],
  [
    'scaled kernels and sign shifts, real first block',
    PAPER_FILTERS,
    { exitHead: { type: 'pooled', grid: [2, 2] }, realFirstBlock: true, scaledKernels: true, signShift: true },
  ],
  ['pooled head with a hidden ReLU layer', [12, 24, 48, 96], { exitHead: { type: 'pooled', grid: [4, 2], hidden: 24 }, realFirstBlock: true }],
];

for (const [what, filters, options] of VARIANTS) {
  test(`the packed engine computes what the tfjs model does (${what})`, () => {
    const { model, meta } = randomBinaryNetwork([...filters], 5, options);
    const { packed, report } = packModel(model, meta);
    assert.ok(report.constantChannels > 0, 'gamma = 0 makes constant channels');
    const engine = new BlockEngine(decodePacked(encodePacked(packed)));
    const n = 6;
    const x = logMelLike(n, 11);
    assertEngineMatches(engine, model, x, n);
    model.dispose();
  });
}

test('floatBelow: y >= t is y > floatBelow(t) for the float32s around t, zeros, denormals and infinities', () => {
  const denormal = keyFloat(1);
  for (const t of [1, -1, 0.1, -3.75, 0, -0, denormal, -denormal, 3.4028234663852886e38, -3.4028234663852886e38, Infinity, -Infinity]) {
    const below = floatBelow(t);
    assert.equal(Math.fround(below), below, `${t}: a float32`);
    const around = [-3, -2, -1, 0, 1, 2, 3].map((d) => keyFloat(floatKey(t) + d)).filter((y) => Number.isFinite(y));
    for (const y of [...around, 0, -0]) assert.equal(y > below, y >= t, `t = ${t}, y = ${y}`);
  }
});

test('packed files: deterministic, checked on read (magic, version, length, checksum)', () => {
  const { model, meta } = randomBinaryNetwork([8, 16, 32, 64], 2);
  const bytes = encodePacked(packModel(model, meta).packed);
  model.dispose();
  assert.deepEqual(encodePacked(decodePacked(bytes)), bytes, 'decode then encode gives the same bytes');
  const refused = (mutate: (b: Uint8Array) => Uint8Array, pattern: RegExp) => assert.throws(() => decodePacked(mutate(bytes.slice()), 'x.bee'), pattern);
  refused((b) => b.subarray(0, b.length - 100), /x\.bee: truncated/);
  refused((b) => Uint8Array.from([...b, 0]), /has trailing bytes/);
  refused((b) => ((b[b.length >> 1] ^= 4), b), /checksum mismatch/);
  refused((b) => ((b[0] = 0x58), b), /no "BEEP" magic/);
  refused((b) => ((b[4] = 8), b), /packed format version 8; this bee reads versions 1, 2, 3, 4, 5, 6 and 7/);
  refused(() => new Uint8Array(3), /no "BEEP" magic/);
});

test('bee export, then eval, predict and summary on the packed model: the same answers as tfjs', () => {
  const out = path.join(tempDir(), 'model.bee');
  const ex = bee('export', '--model', run, '--out', out, '--json');
  assert.equal(ex.status, 0, ex.stderr);
  const exported = JSON.parse(ex.stdout);
  assert.equal(exported.bytes, fs.statSync(out).size);
  // The pooled heads' float32 dense layers are most of the packed file (the paper's head: > 10x).
  assert.ok(exported.ratio > 4, `ratio ${exported.ratio}`);

  const tfjs = JSON.parse(bee('eval', '--model', run, '--threshold', '0.6', '--json').stdout);
  const r = bee('eval', '--model', out, '--threshold', '0.6', '--json');
  assert.equal(r.status, 0, r.stderr);
  const packed = JSON.parse(r.stdout);
  assert.deepEqual(Object.keys(packed), Object.keys(tfjs));
  assert.equal(packed.engine, 'packed');
  for (const key of ['accuracy', 'meanExit', 'exitHistogram', 'relativeCompute', 'confusion']) assert.deepEqual(packed[key], tfjs[key], key);
  const inMemory = JSON.parse(bee('eval', '--model', run, '--engine', 'packed', '--threshold', '0.6', '--json').stdout);
  assert.deepEqual(inMemory.exitHistogram, packed.exitHistogram);

  const wav = path.join(import.meta.dirname, 'fixtures', 'yes-16k.wav');
  const [a] = JSON.parse(bee('predict', wav, '--model', run, '--json').stdout);
  const [b] = JSON.parse(bee('predict', wav, '--model', out, '--json').stdout);
  assert.deepEqual([b.label, b.exit], [a.label, a.exit]);
  assert.ok(Math.abs(a.confidence - b.confidence) < 1e-5);

  const summary = JSON.parse(bee('summary', '--model', run, '--json').stdout);
  assert.equal(summary.packed.bytes, exported.bytes);
});

test('the engine alone (bee/engine) loads and runs a packed file without loading TensorFlow or its side of bee', () => {
  const file = path.join(tempDir(), 'model.bee');
  assert.equal(bee('export', '--model', run, '--out', file).status, 0);
  // A module hook that fails any import of a TensorFlow package, or of bee's TensorFlow side.
  const hooks = `export async function resolve(specifier, context, next) {
    if (specifier.startsWith('@tensorflow/')) throw new Error('imported ' + specifier);
    const resolved = await next(specifier, context);
    if (/\\/dist\\/(model|train|convert|exits|backend)\\//.test(resolved.url)) throw new Error('imported ' + resolved.url);
    return resolved;
  }`;
  const register = `import { register } from 'node:module'; register('data:text/javascript,' + encodeURIComponent(${JSON.stringify(hooks)}));`;
  const engineModule = path.join(import.meta.dirname, '..', 'dist', 'engine', 'index.js');
  const script = `
    const { engineFor, readPackedFile, readWav, LogMel, neverEarly } = await import(${JSON.stringify(engineModule)});
    const engine = engineFor(readPackedFile(${JSON.stringify(file)}));
    const { data } = new LogMel(engine.model.header.features).fromAudio(readWav(${JSON.stringify(path.join(import.meta.dirname, 'fixtures', 'yes-16k.wav'))}));
    console.log(JSON.stringify({ exit: engine.run(data, neverEarly(4)), p: Array.from(engine.probabilities[3]) }));`;
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', script], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const { exit, p } = JSON.parse(r.stdout);
  assert.equal(exit, 4);
  assert.ok(Math.abs(p.reduce((a: number, b: number) => a + b, 0) - 1) < 1e-5);
  // The check has teeth: the same hook stops the whole library, which does load TensorFlow.
  const whole = spawnSync(
    process.execPath,
    [
      '--import',
      `data:text/javascript,${encodeURIComponent(register)}`,
      '--input-type=module',
      '-e',
      `await import(${JSON.stringify(path.join(import.meta.dirname, '..', 'dist', 'index.js'))});`,
    ],
    { encoding: 'utf8' },
  );
  assert.match(whole.stderr, /imported (@tensorflow\/tfjs|file:.*\/dist\/(model|train|convert|exits|backend)\/)/);
});

test('bad packed models: one-line errors, non-zero exit codes, nothing overwritten by a failed export', () => {
  const dir = tempDir();
  const good = path.join(dir, 'good.bee');
  assert.equal(bee('export', '--model', run, '--out', good).status, 0);
  const bytes = fs.readFileSync(good);
  const corrupt = path.join(dir, 'corrupt.bee');
  fs.writeFileSync(corrupt, Buffer.concat([bytes.subarray(0, 100), Buffer.from([bytes[100] ^ 1]), bytes.subarray(101)]));
  assertOneLineError(bee('eval', '--model', corrupt), /corrupt\.bee: checksum mismatch: the file is corrupted/);
  fs.writeFileSync(corrupt, bytes.subarray(0, 5000));
  assertOneLineError(bee('predict', path.join(import.meta.dirname, 'fixtures', 'yes-16k.wav'), '--model', corrupt), /corrupt\.bee: truncated/);
  assertOneLineError(bee('eval', '--model', good, '--engine', 'tfjs'), /good\.bee: a packed model runs on the packed engine only/);
  // Headers that pass the checksum but not the checks: rebuilt with a valid CRC around the same body.
  const crafted = (change: (header: Record<string, unknown>) => void) => {
    const headerBytes = bytes.readUInt32LE(8);
    const header = JSON.parse(bytes.subarray(16, 16 + headerBytes).toString('utf8'));
    change(header);
    const json = Buffer.from(JSON.stringify(header));
    const preamble = Buffer.alloc(16);
    bytes.copy(preamble, 0, 0, 8);
    preamble.writeUInt32LE(json.length, 8);
    preamble.writeUInt32LE(bytes.readUInt32LE(12), 12);
    const body = bytes.subarray(16 + Math.ceil(headerBytes / 16) * 16, bytes.length - 4);
    const file = Buffer.concat([preamble, json, Buffer.alloc(Math.ceil(json.length / 16) * 16 - json.length), body]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32LE(crc32(file));
    fs.writeFileSync(corrupt, Buffer.concat([file, crc]));
    return corrupt;
  };
  assertOneLineError(
    bee(
      'eval',
      '--model',
      crafted((h) => (h.labels = [1, 2, 3])),
      '--threshold',
      '0.5',
    ),
    /corrupt\.bee: bad header: labels must be two or more different strings/,
  );
  assertOneLineError(
    bee(
      'eval',
      '--model',
      crafted((h) => delete h.features),
    ),
    /bad header: features must hold sampleRate/,
  );
  assertOneLineError(
    bee(
      'eval',
      '--model',
      crafted((h) => ((h.network as { inputShape: number[] }).inputShape = [40000, 40000, 1])),
    ),
    /bad header: network\.inputShape must be \[98, 64, 1\]/,
  );
  assertOneLineError(
    bee(
      'eval',
      '--model',
      crafted((h) => (h.temperatures = [1, 1, 1, -1])),
    ),
    /bad header: temperatures must be one number in \[0\.001, 1000\] per exit/,
  );
  assertOneLineError(
    bee(
      'eval',
      '--model',
      crafted((h) => (h.temperatures = [1, 1e-320, 1, 1])),
    ),
    /bad header: temperatures must be one number in \[0\.001, 1000\] per exit/, // a denormal one turns the softmax into NaN
  );
  for (const label of ['\u001b[31mred', 'two\nlines', 'bell\u0007']) {
    const r = bee(
      'predict',
      path.join(import.meta.dirname, 'fixtures', 'yes-16k.wav'),
      '--model',
      crafted((h) => ((h.labels as string[])[2] = label)),
    );
    assertOneLineError(r, /bad header: labels must not hold control characters/);
    assert.ok(!r.stdout.includes('\u001b') && !r.stderr.includes('\u001b'), 'no escape reaches the terminal');
  }
  assertOneLineError(
    bee(
      'eval',
      '--model',
      crafted((h) => (h.data = { root: '/x', classSet: 'tfds12', split: { method: 'hash', salt: 'bee' } })),
    ),
    /corrupt\.bee: bad header: data\.split must hold validationPercent and testPercent/, // the model file named, not a flag
  );
  assertOneLineError(
    bee(
      'eval',
      '--model',
      crafted((h) => (h.data = { root: 3 })),
    ),
    /bad header: data must hold root, split and classSet/,
  );
  assert.equal(
    bee(
      'eval',
      '--model',
      crafted(() => {}),
      '--threshold',
      '0.5',
    ).status,
    0,
    'the rebuilding itself is sound',
  );
  assertOneLineError(bee('export', '--model', run, '--out', path.join(dir, 'no', 'such', 'dir.bee')), /dir\.bee: cannot write: ENOENT/);
  fs.mkdirSync(path.join(dir, 'adir'));
  assertOneLineError(bee('export', '--model', run, '--out', path.join(dir, 'adir')), /adir: is a directory \(name a file/);
  assert.deepEqual(
    fs.readdirSync(dir).filter((f) => f.includes('tmp')),
    [],
    'a failed write leaves no temporary file',
  );
  // names of 245-255 bytes are valid; the temp file beside them must be too
  for (const length of [245, 251, 255]) {
    const long = path.join(dir, `${'m'.repeat(length - 4)}.bee`);
    const r = bee('export', '--model', run, '--out', long);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.existsSync(long));
    fs.rmSync(long);
  }
  assertOneLineError(bee('export', '--model', run, '--out', path.join(dir, `${'m'.repeat(256)}.bee`)), /cannot write: ENAMETOOLONG \(name too long\)/);
  assertOneLineError(bee('export', '--model', path.join(dir, 'missing'), '--out', good), /missing: no such file or model directory/);
  assert.deepEqual(fs.readFileSync(good), bytes);
});

for (const [what, filters] of [
  ['the default network', undefined],
  ['3 stages', [16, 32, 64]],
  ['5 stages', [16, 32, 48, 64, 96]],
] as const) {
  test(`packed engine and tfjs agree on the shared Speech Commands test split: ${what}, trained 1 epoch`, { skip: sharedSkip }, async () => {
    const dataset = loadDataset(SHARED_TEST_SET, { split: { salt: 'bee' } });
    const table = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir: cache });
    const out = path.join(tempDir(), 'sc');
    const exits = filters?.length ?? 4;
    await train({
      dataset,
      table,
      out,
      options: {
        epochs: 1,
        batchSize: 128,
        learningRate: 1e-3,
        exitWeights: Array(exits).fill(1),
        seed: 1,
        precision: 'binary',
        width: 1,
        augment: false,
        ...(filters ? { network: { ...DEFAULT_NETWORK, filters: [...filters], exitHead: pooledExitHead([98, 64, 1], exits) } } : {}),
      },
    });
    const tfjs = await openModel(out, 'tfjs');
    const { model, meta } = await loadModelDir(out);
    const engine = engineFor(packModel(model, meta).packed);
    model.dispose();
    const examples = splitExamples(table, meta.labels, 'test');
    const probs = tfjs.classifier.exitOutputs(table, examples.rows);
    for (const threshold of [0.3, 0.5, 1]) {
      const rule: ExitRule = { criterion: 'max-softmax', thresholds: Array(exits - 1).fill(threshold) };
      const expected = outcomesFromProbabilities(probs, examples.labels, meta.labels.length, rule);
      let agree = 0;
      examples.rows.forEach((row, i) => {
        const exit = engine.run(featuresOf(table, row), rule);
        const p = engine.probabilities[exit - 1];
        if (exit === expected[i].exit && p.indexOf(Math.max(...p)) === expected[i].prediction) agree++;
      });
      assert.ok(agree / examples.rows.length >= 0.999, `threshold ${threshold}: ${agree} of ${examples.rows.length} agree`);
    }
    assert.equal(engine.exits, exits);
    tfjs.classifier.dispose();
  });
}
