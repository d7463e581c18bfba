import { argmax, maxProbability } from '../spec/exit-rules.js';

/** How one example went through the early-exit network. */
export interface Outcome {
  label: number;
  exit: number;
  prediction: number;
  /** max softmax at the exit that answered */
  confidence: number;
  /** time of the early-exit path, when measured */
  ms?: number;
}

export interface ExitStats {
  exit: number;
  /** examples that left at this exit */
  count: number;
  /** accuracy of the examples that left here (null when none did) */
  accuracyExited: number | null;
  /** this exit's accuracy on every example (the full network's output at this exit) */
  accuracyAll: number;
  /** expected calibration error of this exit on every example (15 equal-width confidence bins) */
  ece: number;
  /** share of the full network's MACs spent to reach this exit */
  relativeMacs: number;
}

/** A class's figures; null where the split holds none of its examples. */
export interface ClassStats {
  label: string;
  count: number;
  accuracy: number | null;
  /** difficulty: mean exit of the class's examples */
  meanExit: number | null;
  meanConfidence: number | null;
}

export interface EarlyExitReport {
  samples: number;
  accuracy: number;
  meanExit: number;
  stdExit: number;
  exitHistogram: number[];
  /** MACs executed / MACs of the full network (every block and exit head) */
  relativeCompute: number;
  speedup: number;
  latencyMs: { median: number; p95: number; mean: number } | null;
  perExit: ExitStats[];
  perClass: ClassStats[];
  confusion: { labels: string[]; matrix: number[][] };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return 0;
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  return sorted[lo] + (sorted[Math.min(lo + 1, sorted.length - 1)] - sorted[lo]) * (at - lo);
}

/** Expected calibration error over equal-width confidence bins. */
export function expectedCalibrationError(confidence: number[], correct: boolean[], bins = 15): number {
  const count = new Array(bins).fill(0);
  const conf = new Array(bins).fill(0);
  const acc = new Array(bins).fill(0);
  confidence.forEach((c, i) => {
    const b = Math.min(bins - 1, Math.floor(c * bins));
    count[b]++;
    conf[b] += c;
    acc[b] += correct[i] ? 1 : 0;
  });
  return count.reduce((e, n, b) => (n ? e + Math.abs(acc[b] - conf[b]) / confidence.length : e), 0);
}

/**
 * Everything `bee eval` reports, computed from each example's outcome and every exit's softmax
 * on every example (`allProbs[exit][example * classes + class]`).
 */
export function buildReport(outcomes: Outcome[], allProbs: Float32Array[], labels: string[], relativeMacs: number[]): EarlyExitReport {
  const n = outcomes.length;
  const classes = labels.length;
  const exits = allProbs.length;
  const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);
  const exitsTaken = outcomes.map((o) => o.exit);
  const meanExit = mean(exitsTaken);
  const exitHistogram = Array.from({ length: exits }, (_, k) => exitsTaken.filter((e) => e === k + 1).length);
  const relativeCompute = mean(outcomes.map((o) => relativeMacs[o.exit - 1]));
  const times = outcomes.flatMap((o) => (o.ms === undefined ? [] : [o.ms])).sort((a, b) => a - b);

  const perExit = allProbs.map((probs, k): ExitStats => {
    const confidence: number[] = [];
    const correct: boolean[] = [];
    outcomes.forEach((o, i) => {
      const p = probs.subarray(i * classes, (i + 1) * classes);
      confidence.push(maxProbability(p));
      correct.push(argmax(p) === o.label);
    });
    const exited = outcomes.filter((o) => o.exit === k + 1);
    return {
      exit: k + 1,
      count: exited.length,
      accuracyExited: exited.length ? exited.filter((o) => o.prediction === o.label).length / exited.length : null,
      accuracyAll: correct.filter(Boolean).length / Math.max(n, 1),
      ece: expectedCalibrationError(confidence, correct),
      relativeMacs: relativeMacs[k],
    };
  });

  const perClass = labels.map((label, c): ClassStats => {
    const mine = outcomes.filter((o) => o.label === c);
    return {
      label,
      count: mine.length,
      accuracy: mine.length ? mine.filter((o) => o.prediction === c).length / mine.length : null,
      meanExit: mine.length ? mean(mine.map((o) => o.exit)) : null,
      meanConfidence: mine.length ? mean(mine.map((o) => o.confidence)) : null,
    };
  });

  const matrix = labels.map(() => new Array(classes).fill(0));
  for (const o of outcomes) matrix[o.label][o.prediction]++;

  return {
    samples: n,
    accuracy: outcomes.filter((o) => o.prediction === o.label).length / Math.max(n, 1),
    meanExit,
    stdExit: Math.sqrt(mean(exitsTaken.map((e) => (e - meanExit) ** 2))),
    exitHistogram,
    relativeCompute,
    speedup: relativeCompute > 0 ? 1 / relativeCompute : 0,
    latencyMs: times.length ? { median: percentile(times, 0.5), p95: percentile(times, 0.95), mean: mean(times) } : null,
    perExit,
    perClass,
    confusion: { labels, matrix },
  };
}
