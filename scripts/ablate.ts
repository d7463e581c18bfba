// The recipe's ablation: trains the default recipe and one variant per component (that component
// off, or an optional one on) with one seed and one epoch budget, then sweeps each model's exit
// thresholds and writes a table (Markdown and JSON).
//
//   node --import tsx scripts/ablate.ts --data DIR --noise-dir DIR [--split-salt bee] [--epochs 10] [--arch reactnet]
//     [--out runs/ablate] [--only a,b]
//   (docs/recipe.md's tables: --epochs 8, one per --arch)
//
// Choices are made on the validation split: its exit accuracies are in the table, and the
// early-exit operating point is picked there (the cheapest max-softmax threshold within 1 point of
// the full network) and then measured on the test split, so no figure is tuned on the test clips.
// A finished variant (its ablation.json is there) is not trained again; "s" is its wall time
// (training, the test pass at its end, two sweeps). Every variant is trained with --arch (default:
// bee train's); a variant that turns on what the architecture fixes (reactnet's real stem, say)
// is left out.
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ARCH_NAMES, type ArchName, FAMILIES } from '../src/spec/families.ts';
import { DEFAULT_NETWORK, type NetworkOptions } from '../src/model/network.ts';
import { atThreshold, runJson, type SweepJson, sweepOf, trainingScriptOptions } from './run-bee.ts';

interface Variant {
  name: string;
  what: string;
  flags: string[];
  /** the network option it changes, where an architecture may fix it */
  sets?: keyof NetworkOptions;
}

const VARIANTS: Variant[] = [
  { name: 'default', what: 'the default recipe', flags: [] },
  { name: 'paper-head', what: "exit head: the paper's (global max-pool)", flags: ['--exit-head', 'paper'] },
  { name: 'distill', what: '+ self-distillation', flags: ['--distill', '1'] },
  { name: 'constant-lr', what: 'constant learning rate (no warmup, no cosine decay)', flags: ['--schedule', 'constant', '--warmup-epochs', '0'] },
  { name: 'binary-first-block', what: "binary weights in the first block's convolutions", flags: ['--first-block', 'binary'], sets: 'realFirstBlock' },
  { name: 'bn-momentum-0.99', what: 'BatchNorm momentum 0.99 (Keras)', flags: ['--bn-momentum', '0.99'] },
  { name: 'spec-augment', what: '+ SpecAugment masks', flags: ['--spec-augment'] },
  { name: 'batch-128', what: 'batch 128 (29 steps an epoch instead of 57)', flags: ['--batch-size', '128'] },
  { name: 'exit-ramp', what: '+ early-exit loss weights ramped up over 5 epochs', flags: ['--exit-ramp', '5'] },
  { name: 'scaled-kernels', what: '+ per-channel kernel scales (XNOR-Net)', flags: ['--scaled-kernels'], sets: 'scaledKernels' },
  { name: 'sign-shift', what: '+ learnable sign thresholds (RSign)', flags: ['--sign-shift'], sets: 'signShift' },
  { name: 'early-weights', what: '+ early exits weighted 2, 2, 1, 1', flags: ['--exit-weights', '2,2,1,1'] },
  { name: 'exit-hidden-64', what: '+ a hidden layer of 64 ReLU units, after a BatchNorm, in every exit head', flags: ['--exit-hidden', '64'] },
  { name: 'grid-6x2', what: '+ a 6x2 grid in the pooled head (finer in time)', flags: ['--exit-grid', '6x2'] },
  {
    name: 'paper-recipe',
    what: "bee 0.1's recipe: the paper's head, constant 1e-3, binary first block, momentum 0.99, batch 128",
    flags: [
      '--exit-head',
      'paper',
      '--schedule',
      'constant',
      '--warmup-epochs',
      '0',
      '--lr',
      '1e-3',
      '--first-block',
      'binary',
      '--bn-momentum',
      '0.99',
      '--batch-size',
      '128',
      '--selection',
      'last-exit',
    ],
    sets: 'realFirstBlock',
  },
];

const { values } = parseArgs({
  options: { ...trainingScriptOptions({ epochs: '10', out: 'runs/ablate' }), arch: { type: 'string', default: DEFAULT_NETWORK.arch } },
});
if (!values.data) {
  console.error(
    'usage: node --import tsx scripts/ablate.ts --data DIR [--noise-dir DIR] [--split-salt bee] [--epochs 10] [--arch reactnet] [--out runs/ablate] [--only default,paper-head]',
  );
  process.exit(2);
}
if (!ARCH_NAMES.includes(values.arch as ArchName)) {
  console.error(`unknown --arch ${values.arch}; known: ${ARCH_NAMES.join(', ')}`);
  process.exit(2);
}
const fixed = FAMILIES[values.arch as ArchName].fixed;
const applies = (v: Variant) => v.sets === undefined || !(v.sets in fixed);

function unknownVariant(name: string): never {
  console.error(`unknown variant ${name}; known: ${VARIANTS.map((v) => v.name).join(', ')}`);
  process.exit(2);
}

const data = ['--data', values.data, '--split-salt', values['split-salt']!];
// --only runs the named variants in the order given (the table follows it).
const chosen = (values.only ? values.only.split(',').map((name) => VARIANTS.find((v) => v.name === name) ?? unknownVariant(name)) : VARIANTS).filter(applies);
const results = [];
const started = performance.now();
for (const v of chosen) {
  const dir = path.join(values.out!, v.name);
  const summaryFile = path.join(dir, 'ablation.json');
  if (!fs.existsSync(summaryFile)) {
    const t = performance.now();
    fs.rmSync(dir, { recursive: true, force: true });
    console.error(`\n== ${v.name}: ${v.what}`);
    const noise = values['noise-dir'] ? ['--noise-dir', values['noise-dir']] : [];
    const trained = runJson([
      'train',
      ...data,
      ...noise,
      '--epochs',
      values.epochs!,
      '--seed',
      values.seed!,
      '--arch',
      values.arch!,
      '--out',
      dir,
      '--json',
      ...v.flags,
    ]) as {
      test: { accuracy: number[] };
      best: { epoch: number };
    };
    const validation = sweepOf(dir, data, 'validation');
    const test = sweepOf(dir, data, 'test');
    const picked = validation.cheapestWithin1Point['max-softmax'];
    const summary = {
      name: v.name,
      what: v.what,
      flags: v.flags,
      bestEpoch: trained.best.epoch,
      exits: test.exits.map((e) => e.accuracy),
      validationExits: validation.exits.map((e) => e.accuracy),
      at085: atThreshold(test.rows, 0.85),
      picked: picked && { threshold: picked.threshold, validation: picked, test: atThreshold(test.rows, picked.threshold) },
      testCheapestWithin1Point: test.cheapestWithin1Point['max-softmax'],
      seconds: (performance.now() - t) / 1000,
    };
    fs.writeFileSync(summaryFile, JSON.stringify(summary, null, 2) + '\n');
  }
  const result = JSON.parse(fs.readFileSync(summaryFile, 'utf8'));
  // (summaries written before validationExits existed: from the validation sweep beside them)
  result.validationExits ??= (JSON.parse(fs.readFileSync(path.join(dir, 'sweep-validation', 'sweep.json'), 'utf8')) as SweepJson).exits.map((e) => e.accuracy);
  results.push(result);
}

const pct = (x: number) => (100 * x).toFixed(1);
const head =
  '| variant | exits 1-4 validation accuracy (%) | exits 1-4 test accuracy (%) | test at 0.85: accuracy, mean exit, compute | picked on validation: threshold -> test accuracy, compute | s |';
const lines = results.map((r) => {
  const a = r.at085;
  const p = r.picked ? `${r.picked.threshold} -> ${pct(r.picked.test.accuracy)}%, ${pct(r.picked.test.relativeCompute)}%` : '-';
  return `| ${r.what} | ${r.validationExits.map(pct).join(' / ')} | ${r.exits.map(pct).join(' / ')} | ${pct(a.accuracy)}%, ${a.meanExit.toFixed(2)}, ${pct(a.relativeCompute)}% | ${p} | ${r.seconds.toFixed(0)} |`;
});
const table = [head, '| --- | --- | --- | --- | --- | --- |', ...lines].join('\n');
fs.mkdirSync(values.out!, { recursive: true });
fs.writeFileSync(path.join(values.out!, 'ablation.md'), table + '\n');
fs.writeFileSync(path.join(values.out!, 'ablation.json'), JSON.stringify(results, null, 2) + '\n');
console.log(table);
console.log(
  `\n--arch ${values.arch}, ${values.epochs} epochs, seed ${values.seed}; ${((performance.now() - started) / 60000).toFixed(1)} min for what ran now; ${path.join(values.out!, 'ablation.md')}`,
);
