import { type DetectionRule, detectAll, type WindowAnswer } from './detector.js';
import { scoreStream, type StreamScore, type TruthEvent } from './score.js';

export interface RocPoint extends StreamScore {
  minConfidence: number;
}

/** --min-confidence values an ROC visits: coarse below 0.95, fine above (where few false alarms an hour live). */
export const ROC_CONFIDENCES = [
  ...Array.from({ length: 19 }, (_, i) => Math.round(100 * (0.05 + 0.05 * i)) / 100),
  0.96,
  0.97,
  0.98,
  0.99,
  0.995,
  0.998,
  0.999,
  0.9995,
  0.9999,
];

/**
 * Hit rate against false alarms per hour over ROC_CONFIDENCES of --min-confidence, from one pass
 * of the model (tfjs speech-commands' evaluate()). Labels with thresholds of their own move with
 * it, by the same step in logit space, so that the rule's own point is on the curve.
 */
export function streamRoc(labels: string[], rule: DetectionRule, answers: WindowAnswer[], truth: TruthEvent[], durationSeconds: number): RocPoint[] {
  const reportable = (label: string) => !rule.ignore.has(label);
  return ROC_CONFIDENCES.map((minConfidence) => {
    const detections = detectAll(labels, movedTo(rule, minConfidence), answers);
    return { minConfidence, ...scoreStream(detections, truth, durationSeconds, reportable) };
  });
}

const logit = (p: number) => Math.log(p / (1 - p));
const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));

/** The rule with minConfidence at `to`, and each label's own threshold moved by as much in logit space (1 stays 1). */
export function movedTo<R extends Pick<DetectionRule, 'minConfidence' | 'labelConfidence'>>(rule: R, to: number): R {
  if (!rule.labelConfidence || to === rule.minConfidence) return { ...rule, minConfidence: to };
  const step = logit(Math.min(to, 1 - 1e-9)) - logit(Math.min(rule.minConfidence, 1 - 1e-9));
  const own = Object.fromEntries(Object.entries(rule.labelConfidence).map(([l, t]) => [l, t >= 1 ? 1 : sigmoid(logit(t) + step)]));
  return { ...rule, minConfidence: to, labelConfidence: own };
}

/** The false-alarm rates (an hour) the field reports hit rates at. */
export const FIXED_FALSE_ALARM_RATES = [0.5, 1, 5, 20];

/**
 * The hit rate at each false-alarm rate, read off the ROC as the field reads it: the upper
 * envelope of (false alarms an hour, hit rate) (a rule that allows more false alarms can always
 * do as well as one that allows fewer), linear between its points; null ("not reached") where
 * even the strictest point raises more false alarms than the rate. Beyond the last point, its hit
 * rate.
 */
export function hitRateAtFalseAlarms(
  points: Pick<StreamScore, 'hitRate' | 'falseAlarmsPerHour'>[],
  rates = FIXED_FALSE_ALARM_RATES,
): Record<string, number | null> {
  const sorted = [...points].sort((a, b) => a.falseAlarmsPerHour - b.falseAlarmsPerHour || a.hitRate - b.hitRate);
  const envelope: { fa: number; hit: number }[] = [];
  for (const p of sorted) {
    const best = Math.max(p.hitRate, envelope.at(-1)?.hit ?? 0);
    if (envelope.at(-1)?.fa === p.falseAlarmsPerHour) envelope[envelope.length - 1].hit = best;
    else envelope.push({ fa: p.falseAlarmsPerHour, hit: best });
  }
  const at = (rate: number): number | null => {
    if (!envelope.length || envelope[0].fa > rate) return null;
    const above = envelope.findIndex((e) => e.fa > rate);
    if (above < 0) return envelope[envelope.length - 1].hit;
    const [a, b] = [envelope[above - 1], envelope[above]];
    return a.hit + ((b.hit - a.hit) * (rate - a.fa)) / (b.fa - a.fa);
  };
  return Object.fromEntries(rates.map((r) => [String(r), at(r)]));
}
