import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import { initBackend } from '../src/backend/backend.ts';
import { modelCost } from '../src/model/costs.ts';
import { buildNetwork, networkConfig } from '../src/model/network.ts';
import { ARCH_NAMES } from '../src/spec/families.ts';
import { bodyKernelWeights, exitCosts } from '../src/spec/network-cost.ts';
import type { ExitHead } from '../src/spec/network-config.ts';

before(async () => {
  await initBackend();
});

const HEADS: ExitHead[] = [{ type: 'paper' }, { type: 'pooled', grid: [2, 2] }, { type: 'pooled', grid: [2, 1], hidden: 8, norm: true }];

// The TF-free count (what .bee files, bee listen and the page charge) against the count of the
// built layers (bee summary's): the same exits' MACs for every family, precision, head and depth.
for (const arch of ARCH_NAMES) {
  test(`${arch}: the cost model counts each exit's MACs as the built network does, at 3, 4 and 5 stages`, () => {
    for (const [filters, exitHead, precision, realFirstBlock] of [
      [[8, 16, 24], HEADS[0], 'binary', false],
      [[8, 16, 24, 32], HEADS[1], 'binary', true],
      [[8, 8, 16, 16, 24], HEADS[2], 'float', true],
      [[16, 24, 32, 48], HEADS[2], 'binary', false],
    ] as const) {
      const config = networkConfig({ inputShape: [98, 64, 1], classes: 7, arch, filters: [...filters], exitHead, precision, realFirstBlock });
      const model = buildNetwork(config);
      const built = modelCost(model);
      const weights = model.weights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
      model.dispose();
      const counted = exitCosts(config);
      const where = `${arch} ${filters.join(',')} ${exitHead.type} ${precision}`;
      assert.deepEqual(
        counted.map(({ exit, binaryMacs, floatMacs }) => ({ exit, binaryMacs, floatMacs })),
        built.exits.map(({ exit, binaryMacs, floatMacs }) => ({ exit, binaryMacs, floatMacs })),
        where,
      );
      for (const [k, e] of counted.entries()) assert.ok(Math.abs(e.relativeMacs - built.exits[k].relativeMacs) < 1e-12, where);
      assert.equal(counted.at(-1)?.relativeMacs, 1);
      // the body's kernels: a lower bound on the weights a saved model must hold, and most of them
      const kernels = bodyKernelWeights(config);
      assert.ok(kernels <= weights && kernels > 0.5 * (weights - built.layers.filter((l) => l.exitHead).reduce((n, l) => n + l.floatParams, 0)), where);
    }
  });
}
