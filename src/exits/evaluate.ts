import type { FeatureTable } from '../data/feature-cache.js';
import { featuresOf } from '../spec/classifier.js';
import type { SplitExamples } from '../data/split-examples.js';
import { argmax } from '../spec/exit-rules.js';
import { buildReport, type EarlyExitReport, type Outcome } from './report.js';
import type { EarlyExitClassifier } from '../spec/classifier.js';
import { exitFor, maxProbability, neverEarly, type ExitRule } from '../spec/exit-rules.js';

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
 * the rule accepts; timed per example. A full pass supplies every exit's accuracy and calibration
 * on all examples (it is not part of the timed path).
 */
export function evaluateEarlyExit(
  classifier: EarlyExitClassifier,
  table: FeatureTable,
  examples: SplitExamples,
  modelLabels: string[],
  rule: ExitRule,
  relativeMacs: number[],
  onProgress?: (done: number) => void,
): EarlyExitReport {
  const allProbs = classifier.exitOutputs(table, examples.rows);
  // One untimed example first: TensorFlow builds its kernels on first use, V8 tiers up WebAssembly.
  classifier.classify(featuresOf(table, examples.rows[0]), neverEarly(classifier.exits));
  const outcomes = examples.rows.map((row, i): Outcome => {
    const { exit, probs, ms } = classifier.classify(featuresOf(table, row), rule);
    onProgress?.(i + 1);
    const p = probs[exit - 1];
    return { label: examples.labels[i], exit, prediction: argmax(p), confidence: maxProbability(p), ms };
  });
  return buildReport(outcomes, allProbs, modelLabels, relativeMacs);
}
