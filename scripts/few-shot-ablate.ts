// How the custom-word defaults were chosen (docs/custom-words.md, "What was tried"), on the
// training split only: the ten digits of the shared data's _unknown_ folder, k clips a digit from
// a random half of the training-split speakers (--split-salt bee), scored on every digit clip of
// the other half (speaker-disjoint). Each variant changes the defaults (DEFAULT_FEW_SHOT_AUGMENT,
// DEFAULT_HEAD_FIT) by a JSON object; the body's statistics are computed once a draw per
// augmentation and shared by the head variants. Accuracy per exit of each variant's heads, alone
// and combined (ANSWERS), and the compute early exit needs to stay within 1 point of the last.
//
//   node --import tsx scripts/few-shot-ablate.ts --data ../shared/data/speech-commands-v0.02-test \
//     --noise-dir ../shared/data/speech-commands-background-noise --k 5 --draws 3 \
//     --variants '[{}, {"augment": {"speedSpread": 0}}, {"head": {"hidden": 0}}]' [--unknown synthesized|real|none] [--calibrate]
//
// One variant key changes the heads rather than the defaults: "dense": E (exits 2..E read the
// statistics of every exit up to them side by side). A bag of n heads an exit is {"head": {"heads": n}}.
//
// --calibrate adds the answers alone, in pairs and in geometric pairs at the per-exit temperatures trainHeads
// gives a custom model (crossFitTemperatures: heads fit on half of each word's clips and their
// copies, T minimizing the cross-entropy of the other half's); without it, every T is 1.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { type Clip, findWavs, loadDataset } from '../src/data/dataset.js';
import { engineFor } from '../src/engine/engine-for.js';
import { softmaxInto } from '../src/engine/wasm-kernels.js';
import { readPackedFile } from '../src/engine/packed-file.js';
import { PRETRAINED_BASE } from '../src/exits/pretrained.js';
import { ClipFeaturizer } from '../src/features/featurize.js';
import { cheapestWithin, sweep } from '../src/exits/sweep.js';
import { exitCosts } from '../src/spec/network-cost.js';
import { argmax, neverEarly } from '../src/spec/exit-rules.js';
import { UNKNOWN } from '../src/spec/labels.js';
import { augmentedExamples, customLabels, DEFAULT_FEW_SHOT_AUGMENT, type FewShotAugment } from '../src/transfer/examples.js';
import { crossFitTemperatures } from '../src/transfer/cross-fit.js';
import { synthesizedUnknown } from '../src/transfer/folder-examples.js';
import { DEFAULT_HEAD_FIT, fitHead, headLogits, type HeadFitOptions } from '../src/transfer/head-fit.js';
import { rngFor, shuffle } from '../src/util/rng.js';
import { numberOption } from './number-option.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string' },
    'noise-dir': { type: 'string' },
    k: { type: 'string', default: '5' },
    draws: { type: 'string', default: '3' },
    variants: { type: 'string', default: '[{}]' },
    unknown: { type: 'string', default: 'synthesized' },
    calibrate: { type: 'boolean' },
    json: { type: 'boolean' },
  },
});
if (!args.data || !args['noise-dir'] || !['synthesized', 'real', 'none'].includes(args.unknown)) {
  console.error("usage: scripts/few-shot-ablate.ts --data DIR --noise-dir DIR [--k 5] [--draws 3] [--variants '[{...}]'] [--unknown synthesized|real|none]");
  process.exit(2);
}
type Variant = { augment?: Partial<FewShotAugment>; head?: Partial<HeadFitOptions>; dense?: number };
const variants = JSON.parse(args.variants) as Variant[];
const k = numberOption(args.k, '--k', 'few-shot-ablate');
const draws = numberOption(args.draws, '--draws', 'few-shot-ablate');

const DIGITS = ['zero', 'one', 'two', 'three', 'four', 'five', 'six', 'seven', 'eight', 'nine'];
const source = readPackedFile(PRETRAINED_BASE);
const featurizer = new ClipFeaturizer(source.header.features);
const dataset = loadDataset(args.data, { split: { salt: 'bee' } });
const wordOf = (c: Clip) => path.basename(c.file).split('_')[0];
const trainUnknown = dataset.clips.filter((c) => c.label === UNKNOWN && c.split === 'train');
const noise = findWavs(path.resolve(args['noise-dir'])).map((f) => featurizer.recording(f));
const unknown =
  args.unknown === 'real'
    ? trainUnknown.filter((c) => !DIGITS.includes(wordOf(c))).map((c) => featurizer.samples(c))
    : args.unknown === 'none'
      ? []
      : synthesizedUnknown(DIGITS, source.header.features.sampleRate);
const engine = engineFor(source);
const kept = engine.keepStatistics();
const never = neverEarly(engine.exits);
const statistics = (features: Float32Array) => {
  engine.run(features, never);
  return kept.map((s) => s.slice());
};
const labels = customLabels(DIGITS);

/**
 * Each way of answering, exit e's probabilities from its own head's softmax p[e] (p[i][e] for held-out clip i):
 * alone, the mean of each exit from the third on and the one before's (pairs), the geometric
 * mean of the same pairs (renormalized: how custom models answered in .bee version 7, before
 * their heads were bags), and the mean of every exit up to e (running).
 */
const pairedExits = kept.map((_, e) => (e >= 2 ? 2 : 1));
const meanOf = (p: Float32Array[], from: number, e: number) => p[e].map((_, c) => p.slice(from, e + 1).reduce((a, q) => a + q[c], 0) / (e + 1 - from));
const ANSWERS = {
  alone: (p: Float32Array[], e: number) => p[e],
  pairs: (p: Float32Array[], e: number) => meanOf(p, e + 1 - pairedExits[e], e),
  geometric: (p: Float32Array[], e: number) => {
    if (pairedExits[e] === 1) return p[e];
    const g = p[e].map((q, c) => Math.sqrt(q * p[e - 1][c]));
    const sum = g.reduce((a, b) => a + b, 0);
    return g.map((q) => q / sum);
  },
  running: (p: Float32Array[], e: number) => meanOf(p, 0, e),
};
type Answer = keyof typeof ANSWERS;
/**
 * Per way of answering (ANSWERS; with --calibrate also alone+T and pairs+T, at the cross-fit
 * temperatures): accuracy per exit, and the compute share of the cheapest max-softmax threshold
 * within 1 point of its last exit (as bee sweep finds it); and at the last exit, the accuracy of
 * one head on the last two exits' statistics side by side (joint).
 */
type Scores = { accuracy: Record<string, number[]>; compute: Record<string, number>; joint: number };
const pct = (x: number) => (100 * x).toFixed(1);
const format = (r: Scores) =>
  `${Object.entries(r.accuracy)
    .map(([answer, exits]) => `${answer} ${exits.map(pct).join(' / ')} (compute ${r.compute[answer].toFixed(2)})`)
    .join(', ')}, joint ${pct(r.joint)}`;
const relativeMacs = exitCosts(source.header.network).map((e) => e.relativeMacs);

/** rows one after the other */
const joined = (rows: Float32Array[]) => {
  const out = new Float32Array(rows.reduce((n, r) => n + r.length, 0));
  let at = 0;
  for (const r of rows) {
    out.set(r, at);
    at += r.length;
  }
  return out;
};
/** dense exits up to exit `upTo`: exit e's head reads the statistics of exits 1..e side by side */
const denseInputs = (upTo: number) => (s: Float32Array[]) => s.map((own, e) => (e < upTo ? joined(s.slice(0, e + 1)) : own));
const examplesOf = (words: Map<string, Float32Array[]>, plan: FewShotAugment, seed: number) => {
  const x: Float32Array[][] = kept.map(() => []);
  const y: number[] = [];
  const sources: number[] = [];
  for (const example of augmentedExamples({ words, noise, unknown }, source.header.features, plan, seed)) {
    for (const [e, s] of statistics(example.features).entries()) x[e].push(s);
    y.push(example.label);
    sources.push(example.source);
  }
  return { x, y: Int32Array.from(y), sources: Int32Array.from(sources) };
};
const results: Scores[][] = variants.map(() => []);
for (let draw = 0; draw < draws; draw++) {
  const speakers = [...new Set(trainUnknown.map((c) => c.speaker))].sort();
  const half = new Set(shuffle(speakers, rngFor(draw, 9)).slice(0, Math.floor(speakers.length / 2)));
  const words = new Map<string, Float32Array[]>();
  const held: { statistics: Float32Array[]; word: string }[] = [];
  for (const word of DIGITS) {
    const clips = trainUnknown.filter((c) => wordOf(c) === word);
    words.set(
      word,
      shuffle(
        clips.filter((c) => half.has(c.speaker)),
        rngFor(draw, 5),
      )
        .slice(0, k)
        .map((c) => featurizer.samples(c)),
    );
    for (const c of clips.filter((c) => !half.has(c.speaker))) held.push({ statistics: statistics(featurizer.featurize(c)), word });
  }
  // the body's statistics of each augmentation asked for, once
  const sets = new Map<string, ReturnType<typeof examplesOf>>();
  for (const [v, variant] of variants.entries()) {
    const plan = { ...DEFAULT_FEW_SHOT_AUGMENT, ...variant.augment };
    const key = JSON.stringify(plan);
    if (!sets.has(key)) sets.set(key, examplesOf(words, plan, draw + 1));
    const { x: own, y, sources } = sets.get(key)!;
    const inputs = variant.dense ? denseInputs(variant.dense) : (s: Float32Array[]) => s;
    const byExample = own[0].map((_, i) => inputs(own.map((rows) => rows[i])));
    const x = own.map((_, e) => byExample.map((s) => s[e]));
    const heldInputs = held.map((h) => inputs(h.statistics));
    const started = performance.now();
    const head = { ...DEFAULT_HEAD_FIT, ...variant.head, seed: draw + 1 };
    const fit = (rows: Float32Array[], targets: Int32Array, seed: number) =>
      fitHead(joined(rows), rows[0].length, targets, labels.length, { ...head, seed }).weights;
    const heads = x.map((rows, e) => fit(rows, y, draw + 1 + e));
    const softmaxes = (temperatures: number[]) =>
      heldInputs.map((statistics) =>
        heads.map((w, e) => {
          const p = new Float32Array(labels.length);
          softmaxInto(headLogits(w, statistics[e]), temperatures[e], p);
          return p;
        }),
      );
    const answerSets: [string, Float32Array[][], Answer[]][] = [['', softmaxes(heads.map(() => 1)), Object.keys(ANSWERS) as Answer[]]];
    if (args.calibrate) {
      // as trainHeads calibrates: crossFitTemperatures on the same examples
      const temperatures = crossFitTemperatures(x.map(joined), y, sources, labels.length, head);
      process.stderr.write(`draw ${draw}: temperatures ${temperatures.map((t) => t.toFixed(2)).join(' / ')}\n`);
      answerSets.push(['+T', softmaxes(temperatures), ['alone', 'pairs', 'geometric']]);
    }
    const truth = Int32Array.from(held, (h) => labels.indexOf(h.word));
    const scores = Object.fromEntries(
      answerSets.flatMap(([suffix, own, answers]) =>
        answers.map((name) => {
          const probs = heads.map((_, e) => {
            const rows = new Float32Array(held.length * labels.length);
            for (const [i, p] of own.entries()) rows.set(ANSWERS[name](p, e), i * labels.length);
            return rows;
          });
          const result = sweep(probs, truth, labels, relativeMacs);
          return [name + suffix, { accuracy: result.exits.map((e) => e.accuracy), compute: cheapestWithin(result, 'max-softmax')!.relativeCompute }];
        }),
      ),
    );
    // one head on the last two exits' statistics side by side: the ensemble's alternative, at the last exit only
    const last = x.length - 1;
    const joint = fit(
      own[last].map((r, i) => Float32Array.from([...own[last - 1][i], ...r])),
      y,
      draw + 1 + x.length,
    );
    const result: Scores = {
      accuracy: Object.fromEntries(Object.entries(scores).map(([name, s]) => [name, s.accuracy])),
      compute: Object.fromEntries(Object.entries(scores).map(([name, s]) => [name, s.compute])),
      joint:
        held.filter((h) => labels[argmax(Float32Array.from(headLogits(joint, [...h.statistics[last - 1], ...h.statistics[last]])))] === h.word).length /
        held.length,
    };
    results[v].push(result);
    process.stderr.write(
      `draw ${draw} ${JSON.stringify(variant)}: ${format(result)} (${held.length} held out, ${y.length} examples, heads ${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
    );
  }
}
const average = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const table = variants.map((variant, v) => {
  const draws = results[v];
  const over = <T>(f: (r: Scores) => T) => draws.map(f);
  const names = Object.keys(draws[0].accuracy);
  const mean: Scores = {
    accuracy: Object.fromEntries(names.map((a) => [a, draws[0].accuracy[a].map((_, e) => average(over((r) => r.accuracy[a][e])))])),
    compute: Object.fromEntries(names.map((a) => [a, average(over((r) => r.compute[a]))])),
    joint: average(over((r) => r.joint)),
  };
  return { variant, ...mean };
});
if (args.json) console.log(JSON.stringify({ k, draws, unknown: args.unknown, table }, null, 2));
else for (const { variant, ...row } of table) console.log(`${JSON.stringify(variant).padEnd(40)} ${format(row)}`);
