// Seconds per training step of the full network (batch 128 by default) on the active backend:
// the trainer's own step function on random log-mel-shaped data.
//   npm run bench:train [-- --precision float] [-- --steps 10] [-- --batch 128] [-- --width 1]
// It runs itself under the launcher's malloc settings unless BEE_BENCH_UNTUNED=1 (for comparison).
import os from 'node:os';
import { parseArgs } from 'node:util';
import { alreadyTuned, relaunch } from '../bin/native-env.js';
import { numberOption } from './number-option.ts';

if (!alreadyTuned() && process.env.BEE_BENCH_UNTUNED !== '1') {
  relaunch([...process.execArgv, ...process.argv.slice(1)]);
} else {
  await run();
}

async function run(): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../src/backend/backend.js');
  const { buildNetwork, networkConfig } = await import('../src/model/network.js');
  const { trainStep } = await import('../src/train/train-step.js');
  const { DEFAULT_RECIPE } = await import('../src/train/recipe.js');
  const { values } = parseArgs({
    options: {
      precision: { type: 'string', default: 'binary' },
      steps: { type: 'string', default: '10' },
      batch: { type: 'string', default: '64' },
      width: { type: 'string', default: '1' },
    },
  });
  const info = await initBackend();
  const batch = numberOption(values.batch, '--batch', 'bench-train');
  const precision = values.precision as 'binary' | 'float';
  const model = buildNetwork(
    networkConfig({ inputShape: [98, 64, 1], classes: 12, precision, width: numberOption(values.width, '--width', 'bench-train'), seed: 1 }),
  );
  const optimizer = tf.train.adam(1e-3);
  const recipe = DEFAULT_RECIPE;
  const step = trainStep(model, optimizer, 12, recipe.distill > 0 ? { weight: recipe.distill, temperature: recipe.distillTemperature } : undefined);
  const x = tf.randomNormal([batch, 98, 64, 1], -8, 3, 'float32', 7);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 12);

  const warmup = performance.now();
  step(x, labels, [1, 1, 1, 1]);
  const firstStep = (performance.now() - warmup) / 1000;
  const times: number[] = [];
  for (let i = 0; i < numberOption(values.steps, '--steps', 'bench-train'); i++) {
    const t = performance.now();
    step(x, labels, [1, 1, 1, 1]);
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  console.log(`backend ${info.backend} (${info.threads} threads, malloc tuned: ${info.mallocTuned ? 'yes' : 'no'}), ${os.availableParallelism()} cores`);
  console.log(`${precision} network, width ${values.width}, ${model.countParams()} parameters, batch ${batch}`);
  console.log(`first step (graph warm-up): ${firstStep.toFixed(2)} s`);
  console.log(`step: median ${median.toFixed(3)} s, mean ${mean.toFixed(3)} s over ${times.length} steps; ${(batch / median).toFixed(0)} examples/s`);
  console.log(`peak memory (RSS): ${peakMiB.toFixed(0)} MiB`);
}
