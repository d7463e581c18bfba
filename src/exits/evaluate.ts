import * as tf from '@tensorflow/tfjs';
import { type FeatureTable } from '../data/feature-cache.js';
import { type SplitExamples } from '../data/examples.js';
import { buildReport, argmax, type EarlyExitReport, type Outcome } from './report.js';
import { exitFor, maxProbability, type ExitRule } from './rules.js';
import { type StagedModel } from './staged-model.js';

function featureTensor(table: FeatureTable, rows: number[]): tf.Tensor4D {
  const size = table.frames * table.melBins;
  const data = new Float32Array(rows.length * size);
  rows.forEach((r, i) => data.set(table.features.subarray(r * size, (r + 1) * size), i * size));
  return tf.tensor4d(data, [rows.length, table.frames, table.melBins, 1]);
}

/** Every exit's softmax (or logits) on every example, batched: [exit][example * classes]. */
export function allExitProbabilities(staged: StagedModel, table: FeatureTable, examples: SplitExamples, what: 'softmax' | 'logits' = 'softmax', batchSize = 256): Float32Array[] {
  const parts: Float32Array[][] = [];
  for (let at = 0; at < examples.rows.length; at += batchSize) {
    const x = featureTensor(table, examples.rows.slice(at, at + batchSize));
    parts.push(what === 'softmax' ? staged.allExits(x) : staged.allLogits(x));
    x.dispose();
  }
  return Array.from({ length: staged.exits }, (_, k) => {
    const joined = new Float32Array(parts.reduce((n, p) => n + p[k].length, 0));
    let offset = 0;
    for (const p of parts) {
      joined.set(p[k], offset);
      offset += p[k].length;
    }
    return joined;
  });
}

/** Outcomes decided from every exit's softmax (what a sweep evaluates for many rules at once). */
export function outcomesFromProbabilities(allProbs: Float32Array[], labels: Int32Array, classes: number, rule: ExitRule): Outcome[] {
  return Array.from(labels, (label, i) => {
    const probs = allProbs.map((p) => p.subarray(i * classes, (i + 1) * classes));
    const exit = exitFor(probs, rule);
    const p = probs[exit - 1];
    return { label, exit, prediction: argmax(p), confidence: maxProbability(p) };
  });
}

/**
 * Early-exit evaluation as deployed: batch size one, block by block, stopping at the first exit
 * the rule accepts; timed per example. A batched full pass supplies every exit's accuracy and
 * calibration on all examples (it is not part of the timed path).
 */
export function evaluateEarlyExit(
  staged: StagedModel,
  table: FeatureTable,
  examples: SplitExamples,
  modelLabels: string[],
  rule: ExitRule,
  relativeMacs: number[],
  onProgress?: (done: number) => void,
): EarlyExitReport {
  const allProbs = allExitProbabilities(staged, table, examples);
  const size = table.frames * table.melBins;
  // One untimed example first: TensorFlow builds its kernels on first use.
  const warm = tf.tensor4d(table.features.subarray(examples.rows[0] * size, (examples.rows[0] + 1) * size), [1, table.frames, table.melBins, 1]);
  staged.run(warm, { criterion: 'max-softmax', thresholds: Array(staged.exits - 1).fill(1) });
  warm.dispose();
  const outcomes = examples.rows.map((row, i): Outcome => {
    const x = tf.tensor4d(table.features.subarray(row * size, (row + 1) * size), [1, table.frames, table.melBins, 1]);
    const { exit, probs, ms } = staged.run(x, rule);
    x.dispose();
    onProgress?.(i + 1);
    const p = probs[exit - 1];
    return { label: examples.labels[i], exit, prediction: argmax(p), confidence: maxProbability(p), ms };
  });
  return buildReport(outcomes, allProbs, modelLabels, relativeMacs);
}
