import { argmax } from '../spec/exit-rules.js';
import { QUIET_LABELS } from '../spec/labels.js';
import type { StreamRule } from '../spec/stream-rule.js';

/** How windows become detections (`bee listen`'s --min-confidence, --suppress, --smooth, --report-all). */
export interface DetectionRule {
  /** the smoothed probability of the top label must reach this */
  minConfidence: number;
  /** labels with a threshold of their own, instead of minConfidence (bee calibrate sets them) */
  labelConfidence?: Readonly<Record<string, number>>;
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

/** The mean of the last `windows` windows' probabilities: the label on top and its probability. */
export class Smoother {
  private readonly recent: Float32Array[] = [];
  private readonly mean: Float32Array;

  constructor(
    classes: number,
    readonly windows: number,
  ) {
    this.mean = new Float32Array(classes);
  }

  push(probabilities: Float32Array): { top: number; confidence: number } {
    this.recent.push(probabilities.slice());
    if (this.recent.length > this.windows) this.recent.shift();
    this.mean.fill(0);
    for (const p of this.recent) for (let j = 0; j < p.length; j++) this.mean[j] += p[j] / this.recent.length;
    const top = argmax(this.mean);
    return { top, confidence: this.mean[top] };
  }
}

/** When a smoothed answer is a detection: a label that may be reported, at its threshold, suppressMs after the last detection. */
export class Trigger {
  private last = -Infinity;
  /** per class: the threshold (Infinity: never reported) */
  private readonly thresholds: number[];

  constructor(
    private readonly rule: Pick<DetectionRule, 'minConfidence' | 'labelConfidence' | 'suppressMs' | 'ignore'>,
    labels: string[],
  ) {
    this.thresholds = labels.map((l) => (rule.ignore.has(l) ? Infinity : (rule.labelConfidence?.[l] ?? rule.minConfidence)));
  }

  fire(time: number, top: number, confidence: number): boolean {
    if (!(confidence >= this.thresholds[top])) return false;
    if ((time - this.last) * 1000 < this.rule.suppressMs) return false;
    this.last = time;
    return true;
  }
}

/**
 * The detection rule: the mean of the last `smoothWindows` windows' probabilities (windows that
 * exited early included, with their exit's softmax); its top label is detected when it may be
 * reported, reaches its threshold (`labelConfidence`, else `minConfidence`), and `suppressMs` have passed since the last detection
 * (tfjs speech-commands' listen(): probabilityThreshold and suppressionTimeMillis, plus smoothing).
 */
export class Detector {
  private readonly smoother: Smoother;
  private readonly trigger: Trigger;

  constructor(
    readonly labels: string[],
    readonly rule: DetectionRule,
  ) {
    this.smoother = new Smoother(labels.length, rule.smoothWindows);
    this.trigger = new Trigger(rule, labels);
  }

  push(answer: WindowAnswer): Detection | null {
    const { top, confidence } = this.smoother.push(answer.probabilities);
    if (!this.trigger.fire(answer.time, top, confidence)) return null;
    return { time: answer.time, label: this.labels[top], confidence, exit: answer.exit };
  }
}

/** Runs the rule over answers already computed (the ROC's thresholds reuse one pass of the model). */
export function detectAll(labels: string[], rule: DetectionRule, answers: WindowAnswer[]): Detection[] {
  const detector = new Detector(labels, rule);
  return answers.map((a) => detector.push(a)).filter((d): d is Detection => d !== null);
}

/** The detection rule of a stream rule; `reportAll`: _silence_ and _unknown_ are reported too. */
export function detectionRuleOf(rule: StreamRule, reportAll = false): DetectionRule {
  return {
    minConfidence: rule.minConfidence,
    ...(rule.labelConfidence ? { labelConfidence: rule.labelConfidence } : {}),
    smoothWindows: rule.smoothWindows,
    suppressMs: rule.suppressMs,
    ignore: new Set(reportAll ? [] : QUIET_LABELS),
  };
}
