// Training speed of a network on the active backend: the trainer's own step (loss over every exit,
// Adam, weight clip, the stats read back) on random log-mel-shaped batches.
//   npm run bench:train [-- --arch reactnet] [-- --precision float] [-- --batch 64] [-- --steps 10] [-- --width 1]
//   npm run bench:train -- --profile        where a step's time goes, by part of the network
//   npm run bench:train -- --peer keras     the same network in TensorFlow/Keras, timed after bee's
//                                           (scripts/reference_keras.py; --python, else $BEE_PYTHON or python3)
//   npm run bench:train -- --json           one JSON object on stdout
// It runs itself under the launcher's malloc settings unless BEE_BENCH_UNTUNED=1 (for comparison);
// BEE_FUSED_OPS=0 turns bee's fused kernels off.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { alreadyTuned, relaunch } from '../bin/native-env.js';
import { numberOption } from './number-option.ts';

const KERAS_ARCHS = ['bee', 'reactnet'];
const WHEEL = 'tensorflow-cpu==2.21.*';

if (!alreadyTuned() && process.env.BEE_BENCH_UNTUNED !== '1') {
  relaunch([...process.execArgv, ...process.argv.slice(1)]);
} else {
  await run();
}

/** The CPU as a figure should name it: its model and whether it has AVX-512. */
function cpuName(): string {
  const flags = fs.existsSync('/proc/cpuinfo') ? fs.readFileSync('/proc/cpuinfo', 'utf8') : '';
  return `${os.cpus()[0]?.model.trim() ?? 'unknown CPU'} (${/\bavx512f\b/.test(flags) ? 'AVX-512' : 'no AVX-512'}), ${os.availableParallelism()} cores`;
}

interface KerasFigures {
  tensorflow: string;
  params: number;
  fit: { examplesPerSecond: number; secondsPerStep: number };
  tfFunction: { examplesPerSecond: number; secondsPerStep: number };
}

/** Times the same network in Keras (scripts/reference_keras.py --bench); a one-line reason where it cannot. */
function kerasPeer(python: string, o: { arch: string; precision: string; batch: number; steps: number }): KerasFigures | string {
  if (!KERAS_ARCHS.includes(o.arch)) return `the Keras peer builds ${KERAS_ARCHS.join(' and ')} only`;
  const script = path.join(import.meta.dirname, 'reference_keras.py');
  const args = [script, '--bench', '--arch', o.arch, '--precision', o.precision, '--batch', String(o.batch), '--steps', String(o.steps)];
  const r = spawnSync(python, args, { encoding: 'utf8', env: { ...process.env, TF_CPP_MIN_LOG_LEVEL: '2' } });
  const missing = `Python's TensorFlow is missing; get it with: ${python} -m pip install '${WHEEL}' (or pass --python)`;
  if (r.error) return (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? `no ${python} on PATH; ${missing}` : r.error.message;
  if (r.status !== 0) {
    if (/No module named '?(tensorflow|keras)/.test(r.stderr)) return missing;
    return `${path.basename(script)} failed: ${r.stderr.trim().split('\n').at(-1)}`;
  }
  return JSON.parse(r.stdout.trim().split('\n').at(-1)!) as KerasFigures;
}

async function run(): Promise<void> {
  const tf = await import('@tensorflow/tfjs');
  const { initBackend } = await import('../src/backend/backend.js');
  const { buildNetwork, networkConfig, DEFAULT_NETWORK } = await import('../src/model/network.js');
  const { trainStep } = await import('../src/train/train-step.js');
  const { adamFor } = await import('../src/train/adam.js');
  const { profileSteps, formatProfile } = await import('../src/train/step-profile.js');
  const { DEFAULT_RECIPE } = await import('../src/train/recipe.js');
  const { values } = parseArgs({
    options: {
      arch: { type: 'string', default: DEFAULT_NETWORK.arch },
      precision: { type: 'string', default: 'binary' },
      steps: { type: 'string', default: '10' },
      batch: { type: 'string', default: '64' },
      width: { type: 'string', default: '1' },
      profile: { type: 'boolean', default: false },
      peer: { type: 'string' },
      python: { type: 'string', default: process.env.BEE_PYTHON ?? 'python3' },
      json: { type: 'boolean', default: false },
    },
  });
  if (values.peer !== undefined && values.peer !== 'keras') {
    console.error(`bench-train: --peer must be keras, got '${values.peer}'`);
    process.exit(2);
  }
  const info = await initBackend();
  const batch = numberOption(values.batch, '--batch', 'bench-train');
  const steps = numberOption(values.steps, '--steps', 'bench-train');
  const width = numberOption(values.width, '--width', 'bench-train');
  const precision = values.precision as 'binary' | 'float';
  const arch = values.arch as typeof DEFAULT_NETWORK.arch;
  const model = buildNetwork(networkConfig({ inputShape: [98, 64, 1], classes: 12, precision, width, arch, seed: 1 }));
  const exits = model.outputs.length;
  const recipe = DEFAULT_RECIPE;
  const distill = recipe.distill > 0 ? { weight: recipe.distill, temperature: recipe.distillTemperature } : undefined;
  const step = trainStep(model, adamFor(1e-3), 12, { arch, distill });
  const x = tf.randomNormal([batch, 98, 64, 1], -8, 3, 'float32', 7);
  const labels = Int32Array.from({ length: batch }, (_, i) => i % 12);
  const weights = Array(exits).fill(1);
  const say = (line: string) => (values.json ? undefined : console.log(line));

  say(
    `${cpuName()}; backend ${info.backend} (${info.threads} threads, malloc tuned: ${info.mallocTuned ? 'yes' : 'no'}, fused kernels: ${info.fusedOps ? 'yes' : 'no'})`,
  );
  say(`${arch} ${precision} network, width ${width}, ${model.countParams()} parameters, batch ${batch}`);
  const warmup = performance.now();
  step(x, labels, weights);
  const firstStep = (performance.now() - warmup) / 1000;
  step(x, labels, weights);
  const times: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t = performance.now();
    step(x, labels, weights);
    times.push((performance.now() - t) / 1000);
  }
  times.sort((a, b) => a - b);
  const median = times[times.length >> 1];
  const peakMiB = process.resourceUsage().maxRSS / 1024;
  const bee = { examplesPerSecond: batch / median, secondsPerStep: median, firstStepSeconds: firstStep, peakRssMiB: Math.round(peakMiB) };
  say(`first step (graph warm-up): ${firstStep.toFixed(2)} s`);
  say(`step: median ${median.toFixed(3)} s over ${times.length} steps; ${bee.examplesPerSecond.toFixed(0)} examples/s`);
  say(`peak memory (RSS): ${peakMiB.toFixed(0)} MiB`);

  const profile = values.profile ? profileSteps(model, () => step(x, labels, weights), Math.max(3, Math.min(steps, 5))) : undefined;
  if (profile) say(`\nwhere a step's time goes (${Math.max(3, Math.min(steps, 5))} steps, timed op by op, which slows them):\n${formatProfile(profile)}`);

  let keras: KerasFigures | null = null;
  if (values.peer === 'keras') {
    const peer = kerasPeer(values.python, { arch, precision, batch, steps });
    if (typeof peer === 'string') console.error(`keras peer: ${peer}`);
    else {
      keras = peer;
      const rate = (f: { examplesPerSecond: number; secondsPerStep: number }) =>
        `${f.secondsPerStep.toFixed(3)} s/step, ${f.examplesPerSecond.toFixed(0)} examples/s`;
      say(`\nKeras (TensorFlow ${peer.tensorflow}, ${peer.params} parameters), same network and batch, after bee:`);
      say(`  model.fit:        ${rate(peer.fit)}`);
      say(`  tf.function step: ${rate(peer.tfFunction)}`);
    }
  }
  const fastest = keras ? Math.max(keras.fit.examplesPerSecond, keras.tfFunction.examplesPerSecond) : null;
  const ratio = fastest ? bee.examplesPerSecond / fastest : null;
  if (ratio) say(`bee / the faster Keras: ${ratio.toFixed(2)}x`);
  if (values.json) {
    const result = {
      cpu: cpuName(),
      backend: info,
      network: { arch, precision, width, batch, parameters: model.countParams() },
      bee,
      keras,
      ratio,
      ...(profile ? { profile } : {}),
    };
    console.log(JSON.stringify(result));
  }
}
