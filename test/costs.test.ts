import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { before, test } from 'node:test';
import { initBackend } from '../src/backend/backend.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { modelCost } from '../src/model/costs.ts';
import { buildNetwork, networkConfig } from '../src/model/network.ts';
import { LEGACY_NETWORK } from '../src/spec/network-config.ts';
import { MODEL_FORMAT_VERSION, writeModelDir } from '../src/model/saved-model.ts';
import { tempDir } from './helpers/datasets.ts';

before(async () => {
  await initBackend();
});

// By hand: a conv's MACs are out_h * out_w * k_h * k_w * in_channels * out_channels.
const conv = (h: number, w: number, k: number, cin: number, cout: number) => h * w * k * cin * cout;
const BLOCK_BINARY = [
  conv(98, 64, 1, 64, 32), // block 1: only the 1x1 sees ±1 inputs
  2 * conv(49, 32, 3, 32, 64) + conv(49, 32, 1, 128, 64),
  2 * conv(24, 16, 3, 64, 128) + conv(24, 16, 1, 256, 128),
  2 * conv(12, 8, 3, 128, 256) + conv(12, 8, 1, 512, 256),
];
const FIRST_PAIR_FLOAT = 2 * conv(98, 64, 3, 1, 32); // binary weights on the real-valued log-mel
const HEADS = [32, 64, 128, 256].map((c) => c * 12);

test('the paper network: 107.9 M binary MACs, the first pair and the heads in float', () => {
  const cost = modelCost(buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 12, ...LEGACY_NETWORK })));
  assert.equal(cost.totals.binaryMacs, 107_872_256);
  assert.equal(
    cost.totals.binaryMacs,
    BLOCK_BINARY.reduce((a, b) => a + b),
  );
  assert.equal(cost.totals.floatMacs, FIRST_PAIR_FLOAT + HEADS.reduce((a, b) => a + b));
  const binaryKernels = 2 * 3 * 1 * 32 + 64 * 32 + (2 * 3 * 32 + 128) * 64 + (2 * 3 * 64 + 256) * 128 + (2 * 3 * 128 + 512) * 256;
  assert.equal(cost.totals.binaryParams, binaryKernels);
  const batchNorm = 4 * 3 * (32 + 64 + 128 + 256); // three BatchNorms a block, 4 values a channel
  assert.equal(cost.totals.floatParams, batchNorm + HEADS.reduce((a, b) => a + b) + 4 * 12);
  assert.equal(cost.totals.memoryBits, cost.totals.binaryParams + 32 * cost.totals.floatParams);
  // Reaching exit k runs blocks 1..k and heads 1..k.
  cost.exits.forEach((e, i) => {
    assert.equal(
      e.binaryMacs,
      BLOCK_BINARY.slice(0, i + 1).reduce((a, b) => a + b),
    );
    assert.equal(e.floatMacs, FIRST_PAIR_FLOAT + HEADS.slice(0, i + 1).reduce((a, b) => a + b));
  });
  assert.equal(cost.exits[3].relativeMacs, 1);
  assert.ok(Math.abs(cost.exits[0].relativeMacs - 0.1288) < 1e-4);
});

test('the pooled head and real first-block weights: counted as float, a small share of each block', () => {
  const cost = modelCost(
    buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 12, arch: 'bee', exitHead: { type: 'pooled', grid: [4, 2] }, realFirstBlock: true })),
  );
  const pooled = [
    [49, 32, 32],
    [24, 16, 64],
    [12, 8, 128],
    [6, 4, 256],
  ];
  // per channel: max, mean and 8 cell means -> dense; one add per pooled value into its cell
  const heads = pooled.map(([h, w, c]) => 10 * c * 12 + h * w * c);
  assert.equal(cost.totals.binaryMacs, 107_872_256);
  assert.equal(cost.totals.floatMacs, FIRST_PAIR_FLOAT + heads.reduce((a, b) => a + b));
  const binaryKernels = 64 * 32 + (2 * 3 * 32 + 128) * 64 + (2 * 3 * 64 + 256) * 128 + (2 * 3 * 128 + 512) * 256;
  assert.equal(cost.totals.binaryParams, binaryKernels);
  const batchNorm = 4 * 3 * (32 + 64 + 128 + 256);
  assert.equal(cost.totals.floatParams, 2 * 3 * 32 + batchNorm + [32, 64, 128, 256].reduce((n, c) => n + 10 * c * 12, 0) + 4 * 12);
  heads.forEach((macs, i) => assert.ok(macs / (BLOCK_BINARY[i] + (i === 0 ? FIRST_PAIR_FLOAT : 0)) < 0.02, `head ${i + 1}: ${macs} MACs`));
});

test('the float network has no binary parameters or MACs', () => {
  const cost = modelCost(buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 12, precision: 'float', ...LEGACY_NETWORK })));
  assert.equal(cost.totals.binaryMacs, 0);
  assert.equal(cost.totals.binaryParams, 0);
  assert.equal(cost.totals.floatMacs, 107_872_256 + FIRST_PAIR_FLOAT + HEADS.reduce((a, b) => a + b));
  assert.equal(cost.totals.compression, 1);
});

test('bee summary --json on a saved model', async () => {
  const network = networkConfig({ inputShape: [98, 64, 1], classes: 3, width: 0.25, arch: 'bee' });
  const dir = path.join(tempDir(), 'model');
  await writeModelDir(dir, buildNetwork(network), {
    format: 'bee-model',
    formatVersion: MODEL_FORMAT_VERSION,
    beeVersion: 'test',
    labels: ['a', 'b', 'c'],
    features: PAPER_FEATURES,
    network,
    versions: {},
  });
  const r = spawnSync(process.execPath, [path.join(import.meta.dirname, '..', 'bin', 'bee.js'), 'summary', '--model', dir, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.precision, 'binary');
  assert.equal(s.exits.length, 4);
  assert.ok(s.totals.compression > 5, `compression ${s.totals.compression}`);
  assert.equal(s.layers.find((l: { name: string }) => l.name === 'block2_conv1x1').binaryMacs, conv(49, 32, 1, 32, 16));
});
