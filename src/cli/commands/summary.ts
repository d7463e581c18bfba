import { Command } from 'commander';
import { initBackend } from '../../backend/backend.js';
import { packedHeader } from '../../convert/pack.js';
import { packedSize } from '../../engine/format.js';
import { modelCost } from '../../model/costs.js';
import { floatWeightsBytes, loadModelDir } from '../../model/saved-model.js';
import { backendNotice, printJson } from '../io.js';
import { formatTable, kib } from '../table.js';

const n = (x: number) => (x === 0 ? '0' : x.toLocaleString('en-US'));
const millions = (x: number) => `${(x / 1e6).toFixed(2)} M`;

export const summaryCommand = new Command('summary')
  .description('per-layer parameters (binary and float), memory, MACs; per exit, what reaching it costs')
  .requiredOption('--model <dir>', 'a model directory, or a bee train --out directory (its best checkpoint)')
  .option('--json', 'print JSON')
  .addHelpText(
    'after',
    `
MACs are binary (XNOR-popcount) where both a layer's input and its kernel are ±1, float otherwise.
Memory counts binary kernels at 1 bit and every other parameter (BatchNorm statistics included) at
32 bits. Reaching exit k runs blocks 1..k and the exit heads 1..k. For a binary network, the size
of its packed file (bee export) is shown too.

Examples:
  $ bee summary --model runs/sc
  $ bee summary --model runs/sc/best --json | jq .totals
  $ bee summary --model runs/reactnet   # any architecture (bee train --arch)`,
  )
  .action(async (flags: { model: string; json?: boolean }) => {
    backendNotice(await initBackend());
    const { model, meta, dir } = await loadModelDir(flags.model);
    const cost = modelCost(model);
    const floatBytes = floatWeightsBytes(dir);
    // The size of what bee export would write, for a binary network: it follows from the header.
    const packedBytes = meta.network.precision === 'binary' ? packedSize(packedHeader(meta)) : null;
    model.dispose();
    const packed = packedBytes === null ? null : { bytes: packedBytes, floatWeightsBytes: floatBytes, ratio: floatBytes / packedBytes };
    if (flags.json) return printJson({ model: dir, arch: meta.network.arch, precision: meta.network.precision, labels: meta.labels, ...cost, packed });

    console.log(`${dir}: ${meta.network.precision} ${meta.network.arch} network, filters ${meta.network.filters.join('/')}, ${meta.labels.length} classes\n`);
    const layers = cost.layers.filter((l) => l.type !== 'InputLayer');
    console.log(
      formatTable(
        ['layer', 'type', 'output shape', 'binary params', 'float params', 'memory', 'binary MACs', 'float MACs'],
        layers.map((l) => [
          l.name,
          l.type,
          `(${l.outputShape.slice(1).join(', ')})`,
          n(l.binaryParams),
          n(l.floatParams),
          kib(l.memoryBits / 8),
          n(l.binaryMacs),
          n(l.floatMacs),
        ]),
      ),
    );
    console.log('');
    console.log(
      formatTable(
        ['exit', 'binary MACs', 'float MACs', 'share of full MACs', 'memory'],
        cost.exits.map((e) => [String(e.exit), millions(e.binaryMacs), millions(e.floatMacs), `${(100 * e.relativeMacs).toFixed(1)}%`, kib(e.memoryBits / 8)]),
      ),
    );
    const t = cost.totals;
    console.log('');
    console.log(`parameters: ${n(t.binaryParams)} binary + ${n(t.floatParams)} float`);
    console.log(`memory: ${kib(t.memoryBits / 8)} (as float32: ${kib(t.float32Bits / 8)}; ${t.compression.toFixed(1)}x smaller)`);
    console.log(`MACs per example: ${millions(t.binaryMacs)} binary + ${millions(t.floatMacs)} float`);
    if (packed) console.log(`packed (bee export): ${kib(packed.bytes)}, ${packed.ratio.toFixed(1)}x smaller than weights.bin (${kib(floatBytes)})`);
  });
