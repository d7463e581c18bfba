// Batch-1 latency of the packed engine against the tfjs model on the native backend, in one run:
// the full network and the early-exit path, per clip of a split, with the agreement of their
// answers (class and exit) and the size of each model.
//   npm run bench:engine -- --model runs/sc [--split test] [--threshold 0.85] [--clips 601] [--rounds 5] [--json]
// The model's own data and split (bee.json) supply the clips. The packed engine runs on this
// thread only (WebAssembly, no threads); tfjs uses TensorFlow's thread pool. Each runs all the
// clips in turn, then their answers are compared. The packed engine's latencies come from
// --rounds rounds that run the full network and the early-exit path over all the clips in turn
// (alternating which goes first), so that the machine's drift falls on both alike; the ratio is
// the median over rounds of early / full.
import os from 'node:os';
import { parseArgs } from 'node:util';
import { alreadyTuned, relaunch } from '../bin/native-env.js';
import { median } from './median.ts';
import { numberOption } from './number-option.ts';

if (!alreadyTuned()) {
  relaunch([...process.execArgv, ...process.argv.slice(1)]);
} else {
  await run();
}

interface Timing {
  mean: number;
  median: number;
  p95: number;
}

function timing(ms: number[]): Timing {
  const sorted = [...ms].sort((a, b) => a - b);
  return {
    mean: ms.reduce((a, b) => a + b, 0) / ms.length,
    median: median(ms),
    p95: sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))],
  };
}

async function run(): Promise<void> {
  const { initBackend } = await import('../src/backend/backend.js');
  const { loadRecordedDataset } = await import('../src/data/dataset.js');
  const { splitExamples } = await import('../src/data/split-examples.js');
  const { loadFeatures } = await import('../src/data/feature-cache.js');
  const { engineFor } = await import('../src/engine/engine-for.js');
  const { packModel } = await import('../src/convert/pack.js');
  const { packedSize } = await import('../src/engine/format.js');
  const { featuresOf } = await import('../src/spec/classifier.js');
  const { argmax } = await import('../src/spec/exit-rules.js');
  const { neverEarly } = await import('../src/spec/exit-rules.js');
  const { TfjsClassifier } = await import('../src/exits/tfjs-classifier.js');
  const { modelCost } = await import('../src/model/costs.js');
  const { floatWeightsBytes, loadModelDir } = await import('../src/model/saved-model.js');
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      split: { type: 'string', default: 'test' },
      threshold: { type: 'string', default: '0.85' },
      clips: { type: 'string' },
      rounds: { type: 'string', default: '5' },
      json: { type: 'boolean', default: false },
    },
  });
  if (!values.model) throw new Error('usage: npm run bench:engine -- --model DIR [--split test] [--threshold 0.85] [--clips N] [--rounds 5] [--json]');
  const info = await initBackend();
  const { model, meta, dir } = await loadModelDir(values.model);
  if (!meta.data) throw new Error(`${dir}: bee.json does not say what data the model was trained on`);
  const dataset = loadRecordedDataset(meta.data);
  const table = await loadFeatures(dataset, { params: meta.features });
  const rows = splitExamples(table, meta.labels, values.split as 'test').rows.slice(
    0,
    values.clips ? numberOption(values.clips, '--clips', 'bench-engine') : undefined,
  );

  const { packed } = packModel(model, meta);
  const packedBytes = packedSize(packed.header);
  const floatBytes = floatWeightsBytes(dir);
  const binaryMacs = modelCost(model).totals.binaryMacs;
  const staged = new TfjsClassifier(model, meta.calibration?.temperatures, meta.network.arch);
  const engine = engineFor(packed);
  const full = neverEarly(engine.exits);
  const t = numberOption(values.threshold, '--threshold', 'bench-engine');
  const early = { criterion: 'max-softmax' as const, thresholds: Array(engine.exits - 1).fill(t) };

  // Answers of both implementations, and tfjs's latency. The packed engine runs the clips in a
  // loop of its own: timed right after tfjs, it would find its tables evicted from the caches by
  // tfjs's run, and pay for it on every clip.
  const answers = (rule: typeof full) => {
    const tfjs = rows.map((row) => {
      const a = staged.classify(featuresOf(table, row), rule);
      return { ms: a.ms, exit: a.exit, label: argmax(a.probs[a.exit - 1]) };
    });
    const packed = rows.map((row) => {
      const exit = engine.run(featuresOf(table, row), rule);
      return { exit, label: argmax(engine.probabilities[exit - 1]) };
    });
    const agree = packed.filter((p, i) => p.exit === tfjs[i].exit && p.label === tfjs[i].label).length;
    return {
      tfjs: timing(tfjs.map((a) => a.ms)),
      agreement: agree / rows.length,
      disagreements: rows.length - agree,
      meanExit: packed.reduce((n, a) => n + a.exit, 0) / rows.length,
    };
  };
  /** Per-clip latencies of the packed engine on every clip, one round. */
  const packedRound = (rule: typeof full) =>
    rows.map((row) => {
      const x = featuresOf(table, row);
      const started = performance.now();
      engine.run(x, rule);
      return performance.now() - started;
    });
  // Warm-up: TensorFlow builds its kernels on first use; V8 runs WebAssembly in its baseline
  // compiler first and tiers each function up once it has run enough (20 clips were not enough
  // for the residual engine's kernels: its first hundred clips ran up to 1.4x slower).
  for (const row of rows.slice(0, 20)) staged.classify(featuresOf(table, row), full);
  for (let i = 0; i < 200; i++) engine.run(featuresOf(table, rows[i % rows.length]), full);
  const fullAnswers = answers(full);
  const earlyAnswers = answers(early);
  const rounds = numberOption(values.rounds, '--rounds', 'bench-engine');
  const [fullMs, earlyMs, ratios] = [[] as number[], [] as number[], [] as number[]];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  for (let r = 0; r < rounds; r++) {
    let f: number[];
    let e: number[];
    if (r % 2 === 0) {
      f = packedRound(full);
      e = packedRound(early);
    } else {
      e = packedRound(early);
      f = packedRound(full);
    }
    fullMs.push(...f);
    earlyMs.push(...e);
    ratios.push(mean(e) / mean(f));
  }
  const result = {
    model: dir,
    clips: rows.length,
    split: values.split,
    backend: `${info.backend} (${info.threads} threads)`,
    cpu: `${os.cpus()[0]?.model ?? 'unknown'}, ${os.availableParallelism()} cores`,
    rounds,
    fullNetwork: { ...fullAnswers, packed: timing(fullMs) },
    earlyExit: { threshold: t, ...earlyAnswers, packed: timing(earlyMs) },
    earlyOverFull: { median: median(ratios), min: Math.min(...ratios), max: Math.max(...ratios) },
    sizes: { floatWeightsBytes: floatBytes, packedBytes, ratio: floatBytes / packedBytes },
  };
  staged.dispose();
  if (values.json) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  const ms = (x: Timing) => `mean ${x.mean.toFixed(2)} ms, median ${x.median.toFixed(2)} ms, p95 ${x.p95.toFixed(2)} ms`;
  console.log(`${dir}: ${rows.length} clips of the ${values.split} split; tfjs on ${result.backend}; ${result.cpu}`);
  for (const [name, r] of [
    ['full network', result.fullNetwork],
    [`early exit at max softmax >= ${t}`, result.earlyExit],
  ] as const) {
    console.log(`\n${name} (batch 1, mean exit ${r.meanExit.toFixed(2)}):`);
    console.log(`  tfjs    ${ms(r.tfjs)}`);
    console.log(`  packed  ${ms(r.packed)}   ${(r.tfjs.median / r.packed.median).toFixed(1)}x faster`);
    console.log(`  class and exit agree on ${(100 * r.agreement).toFixed(2)}% of clips (${r.disagreements} differ)`);
  }
  console.log(
    `\npacked engine, early exit / full network: ${result.earlyOverFull.median.toFixed(2)}x the mean latency per clip (median of ${rounds} rounds, ${result.earlyOverFull.min.toFixed(2)}-${result.earlyOverFull.max.toFixed(2)})`,
  );
  console.log(
    `full network: ${(binaryMacs / 1e6).toFixed(1)} M binary MACs in ${result.fullNetwork.packed.median.toFixed(2)} ms = ${(binaryMacs / result.fullNetwork.packed.median / 1e6).toFixed(1)} G binary MACs/s on one core`,
  );
  console.log(
    `model size: float weights ${(floatBytes / 1024).toFixed(1)} KiB, packed ${(packedBytes / 1024).toFixed(1)} KiB (${result.sizes.ratio.toFixed(1)}x smaller)`,
  );
}
