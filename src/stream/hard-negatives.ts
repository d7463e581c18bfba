import { argmax } from '../spec/exit-rules.js';
import type { WindowAnswer } from './detector.js';

/** A window a model took for a keyword where none was spoken: an example of `_unknown_` to train on. */
export interface MinedWindow {
  /** the window's end in the stream, seconds (as bee listen prints times) */
  time: number;
  /** the keyword the model named */
  label: string;
  /** its probability, at the exit that answered */
  confidence: number;
  exit: number;
  /** the window's audio, at the features' rate */
  samples: Float32Array;
}

export interface MiningOptions {
  /** a window is a candidate when its top label is a keyword with at least this probability */
  minConfidence: number;
  /** candidates this close (seconds) are one event, which its most confident window stands for */
  separationSeconds: number;
  /** at most this many windows, the most confident */
  max: number;
  /** spans (seconds) where a word the model may name is spoken: a window that overlaps one is not a negative */
  spoken?: readonly { start: number; end: number }[];
}

export const DEFAULT_MINING: MiningOptions = { minConfidence: 0.5, separationSeconds: 0.5, max: 1000 };

/**
 * Hard-negative mining (as wake-word detectors are trained: openWakeWord, Hey Snips): a model
 * listens to a stream without keywords, and the windows it would have called keywords become
 * `_unknown_` examples of its next training run. Fed the stream's samples and, window by window,
 * the answers of the rule the model listens with (bee listen's), it keeps the most confident
 * window of each event, in bounded memory (the last few seconds of audio, and `max` windows).
 */
export class NegativeMiner {
  private readonly ring: Float32Array;
  /** samples pushed so far: the ring holds the last ring.length of them */
  private pushed = 0;
  private open: MinedWindow | undefined;
  /** the open event's latest candidate: the event goes on while candidates come closer than the separation */
  private lastCandidate = -Infinity;
  private kept: MinedWindow[] = [];
  candidates = 0;

  constructor(
    private readonly labels: readonly string[],
    private readonly reportable: (label: string) => boolean,
    private readonly audio: { sampleRate: number; clipSamples: number },
    private readonly options: MiningOptions,
  ) {
    // a window's answer comes while the block that completed it is being pushed: a block is at most a second
    this.ring = new Float32Array(audio.clipSamples + 2 * audio.sampleRate);
  }

  /** The stream's next samples; call before the listener's push of the same samples. */
  push(samples: Float32Array): void {
    const n = this.ring.length;
    const from = Math.max(0, samples.length - n);
    for (let i = from; i < samples.length; i++) this.ring[(this.pushed + i) % n] = samples[i];
    this.pushed += samples.length;
  }

  /** A window's answer (bee listen's onWindow). */
  window(answer: WindowAnswer): void {
    const top = argmax(answer.probabilities);
    const label = this.labels[top];
    const confidence = answer.probabilities[top];
    if (this.open && answer.time - this.lastCandidate > this.options.separationSeconds) this.close();
    if (!this.reportable(label) || confidence < this.options.minConfidence || this.overlapsSpeech(answer.time)) return;
    this.candidates++;
    this.lastCandidate = answer.time;
    if (this.open && confidence <= this.open.confidence) return;
    this.open = { time: answer.time, label, confidence, exit: answer.exit, samples: this.samplesEndingAt(answer.time) };
  }

  /** The mined windows, in stream order (the most confident `max` of them). */
  finish(): MinedWindow[] {
    this.close();
    this.trim();
    return this.kept.sort((a, b) => a.time - b.time);
  }

  private close(): void {
    if (!this.open) return;
    this.kept.push(this.open);
    this.open = undefined;
    if (this.kept.length >= 2 * this.options.max) this.trim();
  }

  private trim(): void {
    if (this.kept.length > this.options.max) this.kept = this.kept.sort((a, b) => b.confidence - a.confidence).slice(0, this.options.max);
  }

  private overlapsSpeech(end: number): boolean {
    const start = end - this.audio.clipSamples / this.audio.sampleRate;
    return this.options.spoken?.some((s) => s.start < end && s.end > start) ?? false;
  }

  private samplesEndingAt(time: number): Float32Array {
    const end = Math.round(time * this.audio.sampleRate);
    const { clipSamples } = this.audio;
    const n = this.ring.length;
    if (end - clipSamples < this.pushed - n) throw new Error(`window ending at sample ${end} is no longer in the last ${n} samples`);
    // a stream shorter than a window was padded with silence by the listener: zeros here too
    const out = new Float32Array(clipSamples);
    for (let i = 0, at = end - clipSamples; i < clipSamples; i++, at++) if (at >= 0 && at < this.pushed) out[i] = this.ring[at % n];
    return out;
  }
}
