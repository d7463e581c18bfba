import type { ExitRule } from './exit-rules.js';
import { QUIET_LABELS } from './labels.js';

/**
 * How a model listens to a stream: which windows may leave at which exit, and which answers become
 * detections. `bee listen --calibrate` picks one for a false-alarm rate and stores it in the model
 * (bee.json's `stream`, the .bee header's `stream`); bee listen, stdin and the web page use it.
 */
export interface StreamRule {
  /** one max-softmax threshold per exit but the last; before keywordExit, the quiet classes' probability must reach it */
  thresholds: number[];
  /** the first exit that may answer with a keyword (1: any, every class alike) */
  keywordExit: number;
  /** after a window whose answer names a keyword, this many windows run every exit (absent: 0; stream/exit-schedule.ts) */
  holdWindows?: number;
  /** the detection rule (DetectionRule): one threshold, and keywords with one of their own */
  minConfidence: number;
  labelConfidence?: Record<string, number>;
  smoothWindows: number;
  suppressMs: number;
  /** how it was chosen, where bee listen --calibrate chose it */
  calibration?: StreamCalibration;
}

export interface StreamCalibration {
  /** the false alarms an hour aimed at on the negative stream */
  targetFalseAlarmsPerHour: number;
  /** the streams it was chosen on (their truth files) */
  dense: string;
  negatives: string;
  /** what the rule gave on them */
  hitRate: number;
  denseFalseAlarmsPerHour: number;
  negativesFalseAlarmsPerHour: number;
  negativesComputeShare: number;
  date: string;
}

/** What bee listen did before streams were calibrated: every class alike, tfjs speech-commands' defaults and a little smoothing. */
export const DEFAULT_STREAM_RULE: StreamRule = {
  thresholds: [0.85, 0.85, 0.85],
  keywordExit: 1,
  minConfidence: 0.7,
  smoothWindows: 3,
  suppressMs: 1000,
};

/** The rule for a model of `exits` exits when it stores none. */
export function defaultStreamRule(exits: number): StreamRule {
  return { ...DEFAULT_STREAM_RULE, thresholds: Array(exits - 1).fill(DEFAULT_STREAM_RULE.thresholds[0]) };
}

/** The exit rule a stream rule runs windows with (quiet: the labels' indices of QUIET_LABELS). */
export function exitRuleOf(rule: StreamRule, labels: string[]): ExitRule {
  const classes = QUIET_LABELS.map((l) => labels.indexOf(l)).filter((i) => i >= 0);
  return {
    criterion: 'max-softmax',
    thresholds: rule.thresholds,
    ...(rule.keywordExit > 1 && classes.length ? { quiet: { classes, keywordExit: rule.keywordExit } } : {}),
  };
}

/** Why a stored stream rule cannot be used by a model of `exits` exits (undefined: it can). */
export function streamRuleProblem(rule: unknown, exits: number): string | undefined {
  if (typeof rule !== 'object' || rule === null || Array.isArray(rule)) return 'stream must be an object';
  const r = rule as Record<string, unknown>;
  const t = r.thresholds;
  if (!Array.isArray(t) || t.length !== exits - 1 || !t.every((x) => typeof x === 'number' && x >= 0 && x <= 1))
    return `stream.thresholds must be ${exits - 1} numbers in [0, 1]`;
  const whole = (x: unknown, low: number, high: number) => typeof x === 'number' && Number.isInteger(x) && x >= low && x <= high;
  if (!whole(r.keywordExit, 1, exits)) return `stream.keywordExit must be a whole number in 1..${exits}`;
  if (r.holdWindows !== undefined && !whole(r.holdWindows, 0, 100)) return 'stream.holdWindows must be a whole number in 0..100';
  const confidence = (x: unknown) => typeof x === 'number' && x > 0 && x <= 1;
  if (!confidence(r.minConfidence)) return 'stream.minConfidence must be in (0, 1]';
  const own = r.labelConfidence;
  if (own !== undefined && !(typeof own === 'object' && own !== null && !Array.isArray(own) && Object.values(own).every(confidence)))
    return 'stream.labelConfidence must map labels to numbers in (0, 1]';
  if (!whole(r.smoothWindows, 1, 100)) return 'stream.smoothWindows must be a whole number in 1..100';
  if (!(typeof r.suppressMs === 'number' && r.suppressMs >= 0 && Number.isFinite(r.suppressMs))) return 'stream.suppressMs must be a number >= 0';
  return undefined;
}
