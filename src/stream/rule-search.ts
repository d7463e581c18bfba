import type { EarlyExitClassifier } from '../spec/classifier.js';
import { argmax, exitFor, neverEarly } from '../spec/exit-rules.js';
import type { FeatureParams } from '../features/params.js';
import { QUIET_LABELS } from '../spec/labels.js';
import { type Detection, type DetectionRule, Smoother, Trigger, type WindowAnswer } from './detector.js';
import { scoreStream, type StreamScore, type TruthEvent } from './score.js';
import { exitRuleOf, type StreamRule } from '../spec/stream-rule.js';
import { detectionRuleOf } from './detector.js';
import { StreamWindows } from './windows.js';
import { ExitSchedule } from './exit-schedule.js';

/** Every exit's softmax for every window of a stream (the full network ran): any exit rule can be replayed on it. */
export interface StreamPass {
  times: number[];
  /** [window][exit] softmax */
  probs: Float32Array[][];
  durationSeconds: number;
  truth: TruthEvent[];
}

/** Records a StreamPass: samples in, block by block, as bee listen feeds them. */
export class PassRecorder {
  private readonly windows: StreamWindows;
  private readonly times: number[] = [];
  private readonly probs: Float32Array[][] = [];
  private samples = 0;

  constructor(
    private readonly classifier: Pick<EarlyExitClassifier, 'classify' | 'exits'>,
    params: FeatureParams,
    hopMs: number,
  ) {
    this.windows = new StreamWindows(params, hopMs);
  }

  push(samples: Float32Array): void {
    this.samples += samples.length;
    this.windows.push(samples, (features, time) => {
      this.times.push(time);
      this.probs.push(this.classifier.classify(features, neverEarly(this.classifier.exits)).probs.map((p) => p.slice()));
    });
  }

  pass(truth: TruthEvent[]): StreamPass {
    return { times: this.times, probs: this.probs, durationSeconds: this.samples / this.windows.params.sampleRate, truth };
  }
}

/** The answers a stream rule's exits give on a recorded pass (what bee listen would have computed), and their compute share. */
export function replayExits(pass: StreamPass, rule: StreamRule, labels: string[], exitCosts: number[]): { answers: WindowAnswer[]; computeShare: number } {
  const schedule = new ExitSchedule(exitRuleOf(rule, labels), labels, exitCosts.length, rule.holdWindows);
  let compute = 0;
  const answers = pass.probs.map((probs, w) => {
    const exit = exitFor(probs, schedule.next());
    compute += exitCosts[exit - 1];
    schedule.answered(argmax(probs[exit - 1]));
    return { time: pass.times[w], exit, probabilities: probs[exit - 1] };
  });
  return { answers, computeShare: answers.length ? compute / answers.length : 0 };
}

/** What calibration searches: one exit threshold for every exit, the keyword exit, the hold, the smoothing and the detection threshold. */
export const CALIBRATION_GRID = {
  thresholds: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95],
  /** StreamRule.holdWindows, with quiet classes that leave early (keywordExit > 1) */
  holdWindows: [0, 2, 5],
  smoothWindows: [1, 3, 5, 8],
  minConfidence: [...Array.from({ length: 14 }, (_, i) => Math.round(100 * (0.3 + 0.05 * i)) / 100), 0.97, 0.98, 0.99, 0.995, 0.998, 0.999],
  suppressMs: 1000,
};

export interface CalibrationResult {
  rule: StreamRule;
  dense: StreamScore;
  negatives: StreamScore;
  negativesComputeShare: number;
  /** rules tried */
  tried: number;
}

/** The trade calibration reports: the most dense hits within the false-alarm target at each compute share on the negatives (one threshold for all keywords). */
export const COMPUTE_CAPS = [0.2, 0.3, 0.5, 0.75, 1];

export interface SearchResult extends CalibrationResult {
  byCompute: { maxCompute: number; hitRate: number | null; denseFalseAlarmsPerHour: number | null }[];
}

/** Per-keyword thresholds the refinement visits (and 1: never). */
const OWN_THRESHOLDS = [0.9, 0.95, 0.97, 0.98, 0.99, 0.995, 0.998, 0.999, 0.9995, 1];

/**
 * Picks the stream rule for a false-alarm rate: of the rules on CALIBRATION_GRID whose false
 * alarms an hour on the negative stream stay at or under `target` (and whose compute share there
 * stays at or under `maxCompute`), the one with the most hits on the dense stream (ties: fewer
 * false alarms there, then less compute on the negatives). Each exit rule's answers are replayed
 * once; each smoothing once per exit rule; each detection threshold is one pass of the trigger.
 * Then each keyword may get a threshold of its own (refineKeywords). Null when no rule on the grid
 * meets the target.
 */
export function searchStreamRule(
  labels: string[],
  exitCosts: number[],
  dense: StreamPass,
  negatives: StreamPass,
  target: number,
  maxCompute = 1,
): SearchResult | null {
  const exits = exitCosts.length;
  const hasQuiet = labels.some((l) => QUIET_LABELS.includes(l));
  let best: (CalibrationResult & { smoothed: Smoothed[]; replayed: Replayed[] }) | null = null;
  const capped = COMPUTE_CAPS.map(() => null as CalibrationResult | null);
  let tried = 0;
  for (let keywordExit = 1; keywordExit <= (hasQuiet ? exits : 1); keywordExit++) {
    // a hold matters only where quiet windows leave early
    const holds = keywordExit > 1 ? CALIBRATION_GRID.holdWindows : [0];
    for (const [t, holdWindows] of CALIBRATION_GRID.thresholds.flatMap((t) => holds.map((h) => [t, h]))) {
      const base = { thresholds: Array(exits - 1).fill(t), keywordExit, ...(holdWindows ? { holdWindows } : {}), suppressMs: CALIBRATION_GRID.suppressMs };
      const replayed = [dense, negatives].map((p) => replayExits(p, { ...base, minConfidence: 1, smoothWindows: 1 }, labels, exitCosts));
      for (const smoothWindows of CALIBRATION_GRID.smoothWindows) {
        const smoothed = replayed.map(({ answers }) => smooth(answers, labels.length, smoothWindows));
        for (const minConfidence of CALIBRATION_GRID.minConfidence) {
          tried++;
          const scored = scoreRule({ ...base, smoothWindows, minConfidence }, labels, smoothed, replayed, dense, negatives);
          if (scored.negatives.falseAlarmsPerHour > target) continue;
          COMPUTE_CAPS.forEach((cap, i) => {
            if (scored.negativesComputeShare <= cap && (!capped[i] || better(scored, capped[i]))) capped[i] = scored;
          });
          if (scored.negativesComputeShare > maxCompute) continue;
          if (!best || better(scored, best)) best = { ...scored, smoothed, replayed };
        }
      }
    }
  }
  if (!best) return null;
  const refined = refineKeywords(best, labels, best.smoothed, best.replayed, dense, negatives, target);
  const byCompute = COMPUTE_CAPS.map((cap, i) => ({
    maxCompute: cap,
    hitRate: capped[i]?.dense.hitRate ?? null,
    denseFalseAlarmsPerHour: capped[i]?.dense.falseAlarmsPerHour ?? null,
  }));
  return { ...refined.result, tried: tried + refined.tried, byCompute };
}

type Replayed = ReturnType<typeof replayExits>;
type Smoothed = { top: Int32Array; confidence: Float32Array };

function scoreRule(
  rule: StreamRule,
  labels: string[],
  smoothed: Smoothed[],
  replayed: Replayed[],
  dense: StreamPass,
  negatives: StreamPass,
): CalibrationResult {
  const detection = detectionRuleOf(rule);
  const reportable = (l: string) => !detection.ignore.has(l);
  const detect = (k: number) => trigger(smoothed[k], replayed[k].answers, labels, detection);
  return {
    rule,
    dense: scoreStream(detect(0), dense.truth, dense.durationSeconds, reportable),
    negatives: scoreStream(detect(1), negatives.truth, negatives.durationSeconds, reportable),
    negativesComputeShare: replayed[1].computeShare,
    tried: 0,
  };
}

/**
 * Keywords are not alike (on the validation streams, `left` and `off` raised most of the shipped
 * model's false alarms): starting from every keyword at 0.9995, lowers one keyword's threshold at a
 * time (to any lower value of OWN_THRESHOLDS), the move that adds the most dense hits, while the
 * negatives stay within the target. Greedy, on the exit rule and smoothing found; kept only where it beats them.
 */
function refineKeywords(
  found: CalibrationResult,
  labels: string[],
  smoothed: Smoothed[],
  replayed: Replayed[],
  dense: StreamPass,
  negatives: StreamPass,
  target: number,
): { result: CalibrationResult; tried: number } {
  const keywords = labels.filter((l) => !QUIET_LABELS.includes(l));
  let own: Record<string, number> = Object.fromEntries(keywords.map((k) => [k, OWN_THRESHOLDS[OWN_THRESHOLDS.length - 2]]));
  let current = scoreRule({ ...found.rule, labelConfidence: own }, labels, smoothed, replayed, dense, negatives);
  let tried = 1;
  for (;;) {
    let step: CalibrationResult | null = null;
    let stepOwn = own;
    for (const k of keywords) {
      for (const lower of OWN_THRESHOLDS.filter((t) => t < own[k])) {
        const candidate = { ...own, [k]: lower };
        const scored = scoreRule({ ...found.rule, labelConfidence: candidate }, labels, smoothed, replayed, dense, negatives);
        tried++;
        if (scored.negatives.falseAlarmsPerHour > target) continue;
        if (!step || better(scored, step)) [step, stepOwn] = [scored, candidate];
      }
    }
    if (!step || step.dense.hitRate <= current.dense.hitRate) break;
    [current, own] = [step, stepOwn];
  }
  // keep the thresholds of its own only where they pay
  return { result: better(current, found) ? current : found, tried };
}

function better(a: CalibrationResult, b: CalibrationResult): boolean {
  if (a.dense.hitRate !== b.dense.hitRate) return a.dense.hitRate > b.dense.hitRate;
  if (a.dense.falseAlarmsPerHour !== b.dense.falseAlarmsPerHour) return a.dense.falseAlarmsPerHour < b.dense.falseAlarmsPerHour;
  return a.negativesComputeShare < b.negativesComputeShare;
}

function smooth(answers: WindowAnswer[], classes: number, windows: number): Smoothed {
  const smoother = new Smoother(classes, windows);
  const top = new Int32Array(answers.length);
  const confidence = new Float32Array(answers.length);
  answers.forEach((a, i) => {
    const s = smoother.push(a.probabilities);
    top[i] = s.top;
    confidence[i] = s.confidence;
  });
  return { top, confidence };
}

function trigger(s: Smoothed, answers: WindowAnswer[], labels: string[], rule: DetectionRule): Detection[] {
  const t = new Trigger(rule, labels);
  const out: Detection[] = [];
  for (let i = 0; i < answers.length; i++) {
    if (t.fire(answers[i].time, s.top[i], s.confidence[i]))
      out.push({ time: answers[i].time, label: labels[s.top[i]], confidence: s.confidence[i], exit: answers[i].exit });
  }
  return out;
}
