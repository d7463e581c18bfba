import type { Audio } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import type { LogMel } from '../features/logmel.js';
import { argmax } from '../spec/exit-rules.js';
import type { Outcome } from './report.js';
import { maxProbability, type ExitRule } from '../spec/exit-rules.js';
import type { EarlyExitClassifier } from '../spec/classifier.js';

export interface Prediction {
  label: string;
  confidence: number;
  exit: number;
  /** start of the 1 s window that answered, in seconds (0 for clips up to 1 s) */
  windowStart: number;
  windows: number;
  ms: number;
}

/** Start samples of the windows a clip is read in: one for a clip up to the window; else half-overlapping, the last flush with the end. */
export function windowStarts(length: number, window: number): number[] {
  if (length <= window) return [0];
  const hop = Math.floor(window / 2);
  const starts: number[] = [];
  for (let s = 0; s + window < length; s += hop) starts.push(s);
  starts.push(length - window);
  return starts;
}

/**
 * Classifies a recording with early exit. A clip up to the training length is centre-padded as in
 * training; a longer one is read in half-overlapping windows of that length, and the most
 * confident window's answer is returned (a keyword can be anywhere in a longer recording).
 */
export function predictAudio(classifier: EarlyExitClassifier, logMel: LogMel, labels: string[], audio: Audio, rule: ExitRule): Prediction {
  const { sampleRate, clipSamples } = logMel.params;
  const samples = resample(audio.samples, audio.sampleRate, sampleRate);
  const starts = windowStarts(samples.length, clipSamples);
  let best: (Outcome & { start: number }) | undefined;
  let ms = 0;
  for (const start of starts) {
    const result = classifier.classify(logMel.compute(samples.subarray(start, start + clipSamples)).data, rule);
    ms += result.ms;
    const p = result.probs[result.exit - 1];
    const confidence = maxProbability(p);
    if (!best || confidence > best.confidence) best = { label: -1, exit: result.exit, prediction: argmax(p), confidence, start };
  }
  return { label: labels[best!.prediction], confidence: best!.confidence, exit: best!.exit, windowStart: best!.start / sampleRate, windows: starts.length, ms };
}
