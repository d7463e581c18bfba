import { argmax } from '../spec/exit-rules.js';
import { maxProbability } from '../spec/exit-rules.js';

export interface PerExitPoint {
  /** max-softmax thresholds of exits 1..K-1 (`bee eval --threshold t1,t2,t3`) */
  thresholds: number[];
  accuracy: number;
  meanExit: number;
  relativeCompute: number;
  exitHistogram: number[];
}

/** 0, 0.02, ..., 1 for each exit: 51^3 rules for four exits. */
export const PER_EXIT_GRID = Array.from({ length: 51 }, (_, i) => (2 * i) / 100);

/**
 * The cheapest rule with one max-softmax threshold per exit whose accuracy is within `tolerance`
 * of the full network's (the last exit's), by exhaustive search over `grid` for every exit but
 * the last; null if none is (threshold 1 everywhere always is, so only with a tolerance < 0).
 * The rule is the one `bee eval` applies (stop at exit k if its max softmax >= t_k, t_k = 1 never
 * stops). Searched on the split it is then reported on, it bounds what any such rule on the grid
 * can do with these exits there; searched on validation, it is an operating point to test.
 */
export function cheapestPerExit(
  allProbs: Float32Array[],
  labels: Int32Array,
  classes: number,
  relativeMacs: number[],
  tolerance = 0.01,
  grid: number[] = PER_EXIT_GRID,
): PerExitPoint | null {
  const exits = allProbs.length;
  const n = labels.length;
  const confidence = allProbs.map((p) => Float64Array.from(labels, (_, i) => maxProbability(p.subarray(i * classes, (i + 1) * classes))));
  const right = allProbs.map((p) => Uint8Array.from(labels, (label, i) => (argmax(p, i * classes, classes) === label ? 1 : 0)));
  const last = exits - 1;
  // The same test as cheapestWithin's: accuracy >= full - tolerance (to 1e-12).
  const neededAccuracy = right[last].reduce((a, b) => a + b, 0) / n - tolerance - 1e-12;
  let best = null as { macs: number; correct: number; thresholds: number[]; histogram: number[] } | null;

  // Clips still running enter exit k; each threshold splits them into those leaving there and the rest.
  const search = (k: number, running: Int32Array, correct: number, macs: number, thresholds: number[], histogram: number[]) => {
    // Everything still running costs at least exit k's MACs: prune rules that cannot beat the best.
    if (best !== null && macs + running.length * relativeMacs[k] >= best.macs) return;
    if (k === last) {
      let c = correct;
      for (const i of running) c += right[last][i];
      const total = macs + running.length * relativeMacs[last];
      if (c / n >= neededAccuracy && (best === null || total < best.macs))
        best = { macs: total, correct: c, thresholds: [...thresholds], histogram: [...histogram, running.length] };
      return;
    }
    for (const t of grid) {
      const stay: number[] = [];
      let c = correct;
      let left = 0;
      for (const i of running) {
        if (t < 1 && confidence[k][i] >= t) {
          c += right[k][i];
          left++;
        } else stay.push(i);
      }
      search(k + 1, Int32Array.from(stay), c, macs + left * relativeMacs[k], [...thresholds, t], [...histogram, left]);
    }
  };
  search(
    0,
    Int32Array.from({ length: n }, (_, i) => i),
    0,
    0,
    [],
    [],
  );
  if (best === null) return null;
  const { macs, correct, thresholds, histogram } = best;
  const meanExit = histogram.reduce((sum, count, k) => sum + count * (k + 1), 0) / n;
  return { thresholds, accuracy: correct / n, meanExit, relativeCompute: macs / n, exitHistogram: histogram };
}
