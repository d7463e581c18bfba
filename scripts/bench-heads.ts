// How fast new exit heads train (bee train --from --freeze body): bee's trainer (TypeScript and
// the packed engine's WebAssembly kernels, src/transfer/head-fit.ts) against the same heads in
// TensorFlow.js on its fastest backend (Dense(64) -> ReLU -> Dense(classes), Adam, the same
// epochs, batch size and learning rate), on
// statistics of the shipped model's shapes: as many examples as ten words of the default few-shot
// recipe make, one head an exit (bee's default bags three). Both run each exit's head in turn; the
// order alternates over --rounds rounds.
//   npm run bench:heads [-- --rounds 3 --examples 2400 --json]
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../src/backend/backend.js';
import { headFeatures } from '../src/engine/format.js';
import { PRETRAINED_BASE } from '../src/exits/pretrained.js';
import { readPackedFile } from '../src/engine/packed-file.js';
import { DEFAULT_HEAD_FIT, fitHead } from '../src/transfer/head-fit.js';
import { mulberry32 } from '../src/util/rng.js';
import { median } from './median.ts';
import { numberOption } from './number-option.ts';

const { values: args } = parseArgs({
  options: { rounds: { type: 'string', default: '3' }, examples: { type: 'string', default: '2400' }, json: { type: 'boolean' } },
});
const rounds = numberOption(args.rounds, '--rounds', 'bench-heads');
const n = numberOption(args.examples, '--examples', 'bench-heads');
const backend = await initBackend();
const network = readPackedFile(PRETRAINED_BASE).header.network;
const classes = 12;
const dims = network.filters.map((f) => headFeatures(network.exitHead) * f);
const rng = mulberry32(1);
const data = dims.map((d) => Float32Array.from({ length: n * d }, () => rng() * 4 - 2));
const labels = Int32Array.from({ length: n }, () => Math.floor(rng() * classes));
const options = { ...DEFAULT_HEAD_FIT, heads: 1 };

function typescript(): number {
  const started = performance.now();
  for (const [k, d] of dims.entries()) fitHead(data[k], d, labels, classes, options);
  return (performance.now() - started) / 1000;
}

async function tensorflow(): Promise<number> {
  const started = performance.now();
  for (const [k, d] of dims.entries()) {
    const model = tf.sequential({
      layers: [tf.layers.dense({ inputShape: [d], units: options.hidden, activation: 'relu' }), tf.layers.dense({ units: classes })],
    });
    model.compile({
      optimizer: tf.train.adam(options.learningRate),
      loss: (y, logits) => tf.losses.softmaxCrossEntropy(y, logits, undefined, options.labelSmoothing),
    });
    const x = tf.tensor2d(data[k], [n, d]);
    const y = tf.oneHot(tf.tensor1d(labels, 'int32'), classes);
    await model.fit(x, y, { epochs: options.epochs, batchSize: options.batchSize, shuffle: true, verbose: 0 });
    tf.dispose([x, y]);
    model.dispose();
  }
  return (performance.now() - started) / 1000;
}

const times = { typescript: [] as number[], tensorflow: [] as number[] };
for (let r = 0; r < rounds; r++) {
  if (r % 2 === 0) {
    times.typescript.push(typescript());
    times.tensorflow.push(await tensorflow());
  } else {
    times.tensorflow.push(await tensorflow());
    times.typescript.push(typescript());
  }
}
const result = {
  backend: backend.backend,
  examples: n,
  inputs: dims,
  epochs: options.epochs,
  seconds: { typescript: median(times.typescript), tensorflow: median(times.tensorflow) },
  rounds: times,
  tensorflowOverTypescript: median(times.tensorflow) / median(times.typescript),
};
if (args.json) console.log(JSON.stringify(result, null, 2));
else
  console.log(
    `${n} examples, exits of ${dims.join(' / ')} inputs, ${options.epochs} epochs: TypeScript ${result.seconds.typescript.toFixed(1)} s, ` +
      `TensorFlow.js (${backend.backend}) ${result.seconds.tensorflow.toFixed(1)} s (median of ${rounds}): TensorFlow takes ${result.tensorflowOverTypescript.toFixed(2)}x the time`,
  );
