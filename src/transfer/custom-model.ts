import { engineFor } from '../engine/engine-for.js';
import { hiddenUnits, type PackedModel } from '../engine/format.js';
import { BeeError } from '../errors.js';
import type { ExitHead } from '../spec/network-config.js';
import type { StreamRule } from '../spec/stream-rule.js';
import { defaultStreamRule } from '../spec/stream-rule.js';
import { neverEarly } from '../spec/exit-rules.js';
import { QUIET_LABELS } from '../spec/labels.js';
import { crossFitTemperatures } from './cross-fit.js';
import {
  augmentedExamples,
  customLabels,
  DEFAULT_FEW_SHOT_AUGMENT,
  exampleCount,
  type FeatureExample,
  type FewShotAugment,
  type FewShotExamples,
} from './examples.js';
import { DEFAULT_HEAD_FIT, fitHead, type HeadFitOptions, type HeadWeights } from './head-fit.js';

export interface TransferOptions {
  augment: FewShotAugment;
  head: HeadFitOptions;
  seed: number;
}

export const DEFAULT_TRANSFER: TransferOptions = { augment: DEFAULT_FEW_SHOT_AUGMENT, head: DEFAULT_HEAD_FIT, seed: 1 };

export interface TransferReport {
  labels: string[];
  /** training examples of each label, augmented copies included */
  examples: Record<string, number>;
  /** each exit's head at the end of training: mean loss and accuracy on the training examples */
  exits: { loss: number; accuracy: number }[];
  /** each exit's softmax temperature, cross-fit on the examples (crossFitTemperatures) */
  temperatures: number[];
  /** wall time: features and the body's statistics, the heads' training, then their calibration */
  seconds: { statistics: number; heads: number; calibration: number };
}

/** trainHeads' phases in order, as a progress display names them. */
export const TRAINING_PHASES = { statistics: 'examples', heads: 'exit heads', calibration: 'calibration' } as const;
export type TrainingPhase = keyof typeof TRAINING_PHASES;

/** Why these examples cannot make a custom model, or undefined. */
export function examplesProblem(examples: FewShotExamples): string | undefined {
  const words = [...examples.words.keys()];
  if (words.length === 0) return 'no words to learn';
  const quiet = words.filter((w) => QUIET_LABELS.includes(w));
  if (quiet.length) return `${quiet.join(' and ')} is not a word: background and other speech are given as noise and unknown examples`;
  const empty = words.filter((w) => examples.words.get(w)!.length === 0);
  if (empty.length) return `no examples of ${empty.join(', ')}`;
  return undefined;
}

/**
 * The body's pooled statistics at every exit for each of `count` examples: the packed engine runs
 * the whole network once per example and keeps what each exit head reads, [exit][example * inputs].
 */
function exitStatistics(
  source: PackedModel,
  examples: Iterable<FeatureExample>,
  count: number,
  onExample?: (done: number) => void,
): { statistics: Float32Array[]; labels: Int32Array; sources: Int32Array } {
  const engine = engineFor(source);
  const kept = engine.keepStatistics();
  const never = neverEarly(engine.exits);
  const statistics = kept.map((s) => new Float32Array(count * s.length));
  const labels = new Int32Array(count);
  const sources = new Int32Array(count);
  let i = 0;
  for (const example of examples) {
    engine.run(example.features, never);
    for (const [k, s] of kept.entries()) statistics[k].set(s, i * s.length);
    labels[i] = example.label;
    sources[i++] = example.source;
    onExample?.(i);
  }
  return { statistics, labels, sources };
}

/**
 * A custom model from a packed one: the same binary body, new exit heads for the words of
 * `examples` (and _silence_ and _unknown_), trained on the body's statistics in TypeScript and
 * WebAssembly: no TensorFlow, so this runs in the browser as it does in bee. The new model keeps
 * every exit, so it still exits early; each exit's head is a bag of heads (HeadFitOptions.heads),
 * its temperature cross-fit on the examples (crossFitTemperatures), and its stream rule is
 * customStreamRule's (the source's was chosen for its own words).
 */
export function trainHeads(
  source: PackedModel,
  examples: FewShotExamples,
  options: TransferOptions = DEFAULT_TRANSFER,
  onProgress?: (phase: TrainingPhase, done: number, total: number) => void,
): { model: PackedModel; report: TransferReport } {
  const problem = examplesProblem(examples);
  if (problem) throw new BeeError(problem, { hint: 'give 1 or more clips of each word (5-20 work well)' });
  const labels = customLabels(examples.words.keys());
  const { network } = source.header;
  const started = performance.now();
  const total = exampleCount(examples, options.augment);
  const {
    statistics,
    labels: y,
    sources,
  } = exitStatistics(source, augmentedExamples(examples, source.header.features, options.augment, options.seed), total, (done) =>
    onProgress?.('statistics', done, total),
  );
  const fitStarted = performance.now();
  // a bag of heads is stored as one whose hidden layer holds all of theirs side by side
  const exitHead = customHead(network.exitHead, options.head.hidden * options.head.heads);
  const head = { ...options.head, hidden: hiddenUnits(exitHead) && options.head.hidden, seed: options.seed };
  const fits = statistics.map((x, k) => {
    onProgress?.('heads', k, statistics.length);
    return fitHead(x, x.length / y.length, y, labels.length, { ...head, seed: head.seed + k });
  });
  onProgress?.('heads', statistics.length, statistics.length);
  const calibrationStarted = performance.now();
  const temperatures = crossFitTemperatures(statistics, y, sources, labels.length, head, (done) => onProgress?.('calibration', done, statistics.length));
  const finished = performance.now();

  const tensors = new Map(source.tensors);
  for (const [k, { weights }] of fits.entries()) setHead(tensors, k + 1, weights);
  const { stream: _rule, data: _data, ensemble: _ensemble, ensembleMean: _mean, ...kept } = source.header;
  const model: PackedModel = {
    header: {
      ...kept,
      labels,
      network: { ...network, classes: labels.length, exitHead },
      temperatures,
      stream: customStreamRule(network.filters.length),
    },
    tensors,
  };
  const count = (l: number) => y.filter((x) => x === l).length;
  return {
    model,
    report: {
      labels,
      examples: Object.fromEntries(labels.map((l, i) => [l, count(i)])),
      exits: fits.map(({ loss, accuracy }) => ({ loss, accuracy })),
      temperatures,
      seconds: {
        statistics: (fitStarted - started) / 1000,
        heads: (calibrationStarted - fitStarted) / 1000,
        calibration: (finished - calibrationStarted) / 1000,
      },
    },
  };
}

/**
 * How a custom model listens until it is calibrated: as the default rule, but a word answers only
 * at the last exit, the best of its heads, while _silence_ and _unknown_ may leave early (most
 * of a stream's windows): early heads trained on a few clips are confidently wrong too often to
 * name a word.
 */
export function customStreamRule(exits: number): StreamRule {
  return { ...defaultStreamRule(exits), keywordExit: exits };
}

/**
 * The new heads' shape: the source's pooling, with a hidden ReLU layer of `hidden` units (its
 * input standardization folded in, as a BatchNorm would be) where the pooling is bee's; the
 * paper's head (a max per channel) stays one dense layer, as the format stores it.
 */
function customHead(head: ExitHead, hidden: number): ExitHead {
  if (head.type !== 'pooled') return head;
  return hidden ? { type: 'pooled', grid: head.grid, hidden, norm: true } : { type: 'pooled', grid: head.grid, hidden: 0 };
}

/** Exit b's dense layers in a packed model's tensors (src/engine/format.ts names them). */
function setHead(tensors: PackedModel['tensors'], b: number, weights: HeadWeights): void {
  for (const part of ['kernel', 'bias'] as const) {
    if (weights.hidden) tensors.set(`exit${b}.hidden.${part}`, weights.hidden[part]);
    else tensors.delete(`exit${b}.hidden.${part}`);
  }
  tensors.set(`exit${b}.kernel`, weights.kernel);
  tensors.set(`exit${b}.bias`, weights.bias);
}
