import { outcomesFromProbabilities } from './evaluate.js';
import { buildReport } from './report.js';
import { neverEarly, type Criterion } from '../spec/exit-rules.js';

export interface SweepRow {
  criterion: Criterion;
  threshold: number;
  accuracy: number;
  meanExit: number;
  relativeCompute: number;
  exitHistogram: number[];
}

export interface SweepResult {
  rows: SweepRow[];
  /** each exit alone (the network truncated there), as reference points */
  exits: { exit: number; accuracy: number; relativeCompute: number }[];
}

const steps = (n: number) => Array.from({ length: n + 1 }, (_, i) => Math.round((i / n) * 1000) / 1000);
export const MAX_SOFTMAX_GRID = [...steps(100).slice(0, -1), 0.995, 0.999, 1];
export const ENTROPY_GRID = steps(20);

/**
 * The early-exit metrics for a grid of thresholds of both criteria, from every exit's softmax
 * computed once: the decisions are the same rule `bee eval` applies example by example.
 */
export function sweep(allProbs: Float32Array[], labels: Int32Array, modelLabels: string[], relativeMacs: number[]): SweepResult {
  const classes = modelLabels.length;
  const exits = allProbs.length;
  const grid: [Criterion, number[]][] = [
    ['max-softmax', MAX_SOFTMAX_GRID],
    ['entropy', ENTROPY_GRID],
  ];
  const rows = grid.flatMap(([criterion, thresholds]) =>
    thresholds.map((threshold): SweepRow => {
      const rule = { criterion, thresholds: Array(exits - 1).fill(threshold) };
      const r = buildReport(outcomesFromProbabilities(allProbs, labels, classes, rule), allProbs, modelLabels, relativeMacs);
      return { criterion, threshold, accuracy: r.accuracy, meanExit: r.meanExit, relativeCompute: r.relativeCompute, exitHistogram: r.exitHistogram };
    }),
  );
  const all = buildReport(outcomesFromProbabilities(allProbs, labels, classes, neverEarly(exits)), allProbs, modelLabels, relativeMacs);
  return { rows, exits: all.perExit.map((e) => ({ exit: e.exit, accuracy: e.accuracyAll, relativeCompute: e.relativeMacs })) };
}

/**
 * The cheapest threshold of a criterion whose accuracy is within `tolerance` of the full
 * network's (the last exit's): the operating point "as good as the whole network, for less".
 */
export function cheapestWithin(result: SweepResult, criterion: Criterion, tolerance = 0.01): SweepRow | null {
  const full = result.exits[result.exits.length - 1].accuracy;
  const rows = result.rows.filter((r) => r.criterion === criterion && r.accuracy >= full - tolerance - 1e-12);
  return rows.reduce<SweepRow | null>((best, r) => (best === null || r.relativeCompute < best.relativeCompute ? r : best), null);
}

export function sweepCsv(result: SweepResult): string {
  const head = 'criterion,threshold,accuracy,mean_exit,relative_compute,exit1,exit2,exit3,exit4';
  const lines = result.rows.map((r) =>
    [r.criterion, r.threshold, r.accuracy.toFixed(6), r.meanExit.toFixed(6), r.relativeCompute.toFixed(6), ...r.exitHistogram].join(','),
  );
  return [head, ...lines].join('\n') + '\n';
}
