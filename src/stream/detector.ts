import { argmax } from '../exits/report.js';

/** How windows become detections (`bee listen`'s --min-confidence, --suppress, --smooth, --report-all). */
export interface DetectionRule {
  /** the smoothed probability of the top label must reach this */
  minConfidence: number;
  /** no detection within this many ms after the previous one (one word is seen by many windows) */
  suppressMs: number;
  /** the probabilities averaged over the last this many windows (1: none) */
  smoothWindows: number;
  /** labels never reported (_silence_ and _unknown_ unless --report-all) */
  ignore: ReadonlySet<string>;
}

/** One window's answer: its end time in the stream (s), the answering exit and its softmax. */
export interface WindowAnswer {
  time: number;
  exit: number;
  probabilities: Float32Array;
}

export interface Detection {
  /** the end of the window that detected it, in seconds from the start of the stream */
  time: number;
  label: string;
  /** the smoothed probability */
  confidence: number;
  exit: number;
}

export const QUIET_LABELS = ['_silence_', '_unknown_'];

/**
 * The detection rule: the mean of the last `smoothWindows` windows' probabilities (windows that
 * exited early included, with their exit's softmax); its top label is detected when it may be
 * reported, reaches `minConfidence`, and `suppressMs` have passed since the last detection
 * (tfjs speech-commands' listen(): probabilityThreshold and suppressionTimeMillis, plus smoothing).
 */
export class Detector {
  private readonly recent: Float32Array[] = [];
  private readonly mean: Float32Array;
  private last = -Infinity;

  constructor(
    readonly labels: string[],
    readonly rule: DetectionRule,
  ) {
    this.mean = new Float32Array(labels.length);
  }

  push(answer: WindowAnswer): Detection | null {
    this.recent.push(answer.probabilities.slice());
    if (this.recent.length > this.rule.smoothWindows) this.recent.shift();
    this.mean.fill(0);
    for (const p of this.recent) for (let j = 0; j < p.length; j++) this.mean[j] += p[j] / this.recent.length;
    const top = argmax(this.mean);
    const label = this.labels[top];
    if (this.rule.ignore.has(label) || this.mean[top] < this.rule.minConfidence) return null;
    if ((answer.time - this.last) * 1000 < this.rule.suppressMs) return null;
    this.last = answer.time;
    return { time: answer.time, label, confidence: this.mean[top], exit: answer.exit };
  }
}

/** Runs the rule over answers already computed (the ROC's thresholds reuse one pass of the model). */
export function detectAll(labels: string[], rule: DetectionRule, answers: WindowAnswer[]): Detection[] {
  const detector = new Detector(labels, rule);
  return answers.map((a) => detector.push(a)).filter((d): d is Detection => d !== null);
}
