import { type DetectionRule, detectAll, type WindowAnswer } from './detector.js';
import { scoreStream, type StreamScore, type TruthEvent } from './score.js';

export interface RocPoint extends StreamScore {
  minConfidence: number;
}

/** Hit rate against false alarms per hour over a grid of --min-confidence values, from one pass of the model (tfjs speech-commands' evaluate()). */
export function streamRoc(labels: string[], rule: DetectionRule, answers: WindowAnswer[], truth: TruthEvent[], durationSeconds: number): RocPoint[] {
  const reportable = (label: string) => !rule.ignore.has(label);
  return Array.from({ length: 19 }, (_, i) => {
    const minConfidence = Math.round(100 * (0.05 + 0.05 * i)) / 100;
    const detections = detectAll(labels, { ...rule, minConfidence }, answers);
    return { minConfidence, ...scoreStream(detections, truth, durationSeconds, reportable) };
  });
}
