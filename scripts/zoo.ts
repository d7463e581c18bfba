// The architecture comparison (issue "four binary architectures"): trains every family of
// src/model/architectures/ in both precisions with one recipe, epoch budget and seed, then
// measures each: exits 1-4 test accuracy, MACs, parameters, packed size, packed latency (full
// network and at the threshold picked on validation; and the binary models' full-network latency
// round-robin, against the bee block's), training s/step; writes a table (Markdown,
// JSON) and one plot, accuracy against relative compute, one curve per binary architecture.
//
//   node --import tsx scripts/zoo.ts --data DIR --noise-dir DIR [--split-salt bee] [--epochs 8] [--out runs/zoo] [--only bee-binary,...]
//
// A run already trained (its train.json is there) is not trained again; measuring is cheap and
// always redone. The operating point is picked on validation (the cheapest max-softmax threshold
// within 1 point of the full network) and measured on test, as scripts/ablate.ts does.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ARCH_NAMES } from '../src/spec/families.ts';
import { curvesSvg } from '../src/report/plot.ts';
import { atThreshold, runJson, sweepOf, trainingScriptOptions } from './run-bee.ts';

const { values } = parseArgs({
  options: { ...trainingScriptOptions({ epochs: '8', out: 'runs/zoo' }), 'train-only': { type: 'boolean', default: false } },
});
if (!values.data) {
  console.error(
    'usage: node --import tsx scripts/zoo.ts --data DIR [--noise-dir DIR] [--split-salt bee] [--epochs 8] [--out runs/zoo] [--only bee-binary,reactnet-float] [--train-only]',
  );
  process.exit(2);
}

const RUNS = ['binary', 'float'].flatMap((precision) => ARCH_NAMES.map((arch) => ({ arch, precision, name: `${arch}-${precision}` })));
const chosen = values.only
  ? values.only.split(',').map((name) => {
      const found = RUNS.find((r) => r.name === name);
      if (!found) {
        console.error(`unknown run ${name}; known: ${RUNS.map((r) => r.name).join(', ')}`);
        process.exit(2);
      }
      return found;
    })
  : RUNS;

interface Timing {
  mean: number;
  p95: number;
}
interface Bench {
  fullNetwork: { packed: Timing; agreement: number };
  earlyExit: { packed: Timing; agreement: number; meanExit: number };
  sizes: { packedBytes: number };
}

const data = ['--data', values.data, '--split-salt', values['split-salt']!];
const noise = values['noise-dir'] ? ['--noise-dir', values['noise-dir']] : [];
const started = performance.now();
const results = [];
for (const r of chosen) {
  const dir = path.join(values.out!, r.name);
  const trainFile = path.join(dir, 'train.json');
  if (!fs.existsSync(trainFile)) {
    fs.rmSync(dir, { recursive: true, force: true });
    console.error(`\n== ${r.name}`);
    const t = performance.now();
    const flags = ['--arch', r.arch, '--precision', r.precision, '--epochs', values.epochs!, '--seed', values.seed!];
    const trained = runJson(['train', ...data, ...noise, ...flags, '--out', dir, '--json']) as object;
    fs.writeFileSync(trainFile, JSON.stringify({ ...trained, flags, seconds: (performance.now() - t) / 1000 }, null, 2) + '\n');
  }
  if (values['train-only']) continue;
  const trained = JSON.parse(fs.readFileSync(trainFile, 'utf8'));
  const history = fs
    .readFileSync(path.join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { examplesPerSecond: number });
  const summary = runJson(['summary', '--model', dir, '--json']) as {
    totals: { binaryMacs: number; floatMacs: number; binaryParams: number; floatParams: number };
  };
  const validation = sweepOf(dir, data, 'validation');
  const test = sweepOf(dir, data, 'test');
  const picked = validation.cheapestWithin1Point['max-softmax'];
  let packed: Bench | null = null;
  if (r.precision === 'binary') {
    runJson(['export', '--model', dir, '--out', path.join(dir, 'model.bee'), '--force', '--json']);
    packed = runJson(['--model', dir, '--threshold', String(picked?.threshold ?? 1), '--json'], path.resolve('scripts/bench-engine.ts')) as Bench;
  }
  // the batch size the run resolved (--batch-size auto) is in its training state
  const { batchSize } = (JSON.parse(fs.readFileSync(path.join(dir, 'last', 'state.json'), 'utf8')) as { options: { batchSize: number } }).options;
  const examplesPerSecond = history.reduce((n, h) => n + h.examplesPerSecond, 0) / history.length;
  results.push({
    ...r,
    epochs: history.length,
    bestEpoch: trained.best?.epoch,
    exits: test.exits.map((e) => e.accuracy),
    curve: test.rows.filter((row) => row.criterion === 'max-softmax').map((row) => [row.relativeCompute, row.accuracy]),
    macs: { binary: summary.totals.binaryMacs, float: summary.totals.floatMacs },
    params: { binary: summary.totals.binaryParams, float: summary.totals.floatParams },
    picked: picked && { threshold: picked.threshold, test: atThreshold(test.rows, picked.threshold) },
    packed,
    secondsPerStep: batchSize / examplesPerSecond,
    trainSeconds: trained.seconds,
  });
}
if (values['train-only']) process.exit(0);

// Latency ratios from single bench:engine runs move with the machine's neighbours; round-robin
// rounds in one process (scripts/latency-rounds.ts) expose every model to the same conditions.
const packedRuns = results.filter((r) => r.packed).sort((a, b) => +(b.arch === 'bee') - +(a.arch === 'bee'));
const rounds = new Map<string, { msMedian: number; ratioToFirst: number }>();
if (packedRuns.length > 1) {
  const args = packedRuns.flatMap((r) => ['--model', path.join(values.out!, r.name, 'model.bee')]);
  const { models } = runJson([...args, '--rounds', '10', '--json'], path.resolve('scripts/latency-rounds.ts')) as {
    models: { msMedian: number; ratioToFirst: number }[];
  };
  for (const [i, r] of packedRuns.entries()) rounds.set(r.name, models[i]);
}

const pct = (x: number) => (100 * x).toFixed(1);
const ms = (t: Timing) => `${t.mean.toFixed(2)} / ${t.p95.toFixed(2)}`;
const head = `| architecture | exits 1-4 test accuracy (%) | binary / float MMACs | binary / float params | packed KiB | packed ms, full: mean / p95 | packed ms, full, round-robin: median (x ${packedRuns[0]?.name ?? '-'}) | picked on validation: threshold -> test accuracy, compute; packed ms mean / p95 | agree | train s/step |`;
const lines = results.map((r) => {
  const p = r.picked ? `${r.picked.threshold} -> ${pct(r.picked.test.accuracy)}%, ${pct(r.picked.test.relativeCompute)}%` : '-';
  const k = r.packed;
  const rr = rounds.get(r.name);
  return `| ${r.name} | ${r.exits.map(pct).join(' / ')} | ${(r.macs.binary / 1e6).toFixed(1)} / ${(r.macs.float / 1e6).toFixed(1)} | ${r.params.binary} / ${r.params.float} | ${k ? (k.sizes.packedBytes / 1024).toFixed(0) : '-'} | ${k ? ms(k.fullNetwork.packed) : '-'} | ${rr ? `${rr.msMedian.toFixed(2)} (${rr.ratioToFirst.toFixed(2)}x)` : '-'} | ${p}${k ? `; ${ms(k.earlyExit.packed)}` : ''} | ${k ? `${pct(Math.min(k.fullNetwork.agreement, k.earlyExit.agreement))}%` : '-'} | ${r.secondsPerStep.toFixed(2)} |`;
});
const table = [
  head,
  `| ${head
    .split('|')
    .slice(2, -1)
    .map(() => '---')
    .join(' | ')} | --- |`,
  ...lines,
].join('\n');
fs.mkdirSync(values.out!, { recursive: true });
fs.writeFileSync(path.join(values.out!, 'zoo.md'), table + '\n');
fs.writeFileSync(
  path.join(values.out!, 'zoo.json'),
  JSON.stringify(
    results.map((r) => ({ ...r, roundRobin: rounds.get(r.name) ?? null })),
    null,
    2,
  ) + '\n',
);
const binary = results.filter((r) => r.precision === 'binary');
fs.writeFileSync(
  path.join(values.out!, 'zoo.svg'),
  curvesSvg(
    `binary architectures, test split: accuracy against compute (${values.epochs} epochs, seed ${values.seed})`,
    binary.map((r) => ({ name: r.arch, points: r.curve as [number, number][] })),
  ),
);
console.log(table);
console.log(
  `\n${values.epochs} epochs, seed ${values.seed}; ${((performance.now() - started) / 60000).toFixed(1)} min for what ran now; ${path.join(values.out!, 'zoo.md')}`,
);
