import { decimal } from '../util/decimal.js';
import { BeeError } from '../errors.js';

export type Criterion = 'max-softmax' | 'entropy';

/**
 * When to stop: after exit k (k < last), stop if its softmax is confident enough. max-softmax:
 * max p >= threshold; entropy: H(p) / ln(classes) <= threshold. The last exit always answers.
 * One threshold for every exit, or one per exit but the last.
 */
export interface ExitRule {
  criterion: Criterion;
  thresholds: number[];
  /** class-aware exits, for streams (absent: every class alike) */
  quiet?: QuietExits;
}

/**
 * Class-aware exits: before `keywordExit`, a window stops only when the probability of the quiet
 * classes (silence, unknown) together reaches that exit's threshold, never on a keyword; from
 * `keywordExit` on, the rule's criterion as usual. In a stream most windows hold no keyword: the
 * cheap exits settle "nothing here", and a keyword is confirmed where the network is surest (the
 * first exits are the most overconfident on noise).
 */
export interface QuietExits {
  /** class indices of the quiet labels */
  classes: number[];
  /** the first exit that may answer with a keyword (2..exits) */
  keywordExit: number;
}

/** The rule that runs every block: the full network. */
export function neverEarly(exits: number): ExitRule {
  return { criterion: 'max-softmax', thresholds: Array(exits - 1).fill(1) };
}

/**
 * `--threshold` or `--entropy`: one value in [0, 1], or one per exit but the last. Without `exits`
 * (the model not read yet) only the values are checked, and returned as given.
 */
export function parseThresholds(value: string, exits?: number, flag: '--threshold' | '--entropy' = '--threshold'): number[] {
  const example =
    flag === '--threshold' ? '--threshold 0.85, or one per exit: --threshold 0.9,0.85,0.8' : '--entropy 0.3, or one per exit: --entropy 0.2,0.3,0.4';
  const thresholds = value.split(',').map(decimal);
  if (thresholds.some((t) => !(t >= 0 && t <= 1))) throw new BeeError(`${flag} '${value}' is not in [0, 1]`, { hint: `e.g. ${example}` });
  if (exits === undefined) return thresholds;
  if (thresholds.length !== 1 && thresholds.length !== exits - 1) {
    throw new BeeError(`${flag}: expected 1 value or ${exits - 1} (one per exit but the last), got ${thresholds.length}`, { hint: `e.g. ${example}` });
  }
  return thresholds.length === 1 ? Array(exits - 1).fill(thresholds[0]) : thresholds;
}

export function maxProbability(p: ArrayLike<number>): number {
  let max = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > max) max = p[i];
  return max;
}

/** Entropy of p divided by ln(classes): 0 for a one-hot, 1 for uniform. */
export function normalizedEntropy(p: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < p.length; i++) if (p[i] > 0) h -= p[i] * Math.log(p[i]);
  return h / Math.log(p.length);
}

/** Whether to stop after exit `exit` (1-based) with softmax p. */
export function shouldExit(p: ArrayLike<number>, exit: number, exits: number, rule: ExitRule): boolean {
  if (exit >= exits) return true;
  const t = rule.thresholds[exit - 1];
  if (rule.quiet && exit < rule.quiet.keywordExit) {
    let quiet = 0;
    for (const c of rule.quiet.classes) quiet += p[c];
    return t < 1 && quiet >= t;
  }
  if (rule.criterion === 'entropy') return normalizedEntropy(p) <= t;
  // A saturated float32 softmax can be exactly 1: threshold 1 must mean "never early".
  return t < 1 && maxProbability(p) >= t;
}

/** The exit a sample leaves by, given every exit's softmax (the same rule as the early-exit path). */
export function exitFor(probs: ArrayLike<number>[], rule: ExitRule): number {
  for (let k = 1; k <= probs.length; k++) if (shouldExit(probs[k - 1], k, probs.length, rule)) return k;
  return probs.length;
}

/** The index of the largest of n values of p from offset (the first, on ties). */
export function argmax(p: ArrayLike<number>, offset = 0, n = p.length): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (p[offset + i] > p[offset + best]) best = i;
  return best;
}
