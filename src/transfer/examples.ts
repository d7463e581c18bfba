import { gainForSnr } from '../audio/level.js';
import { drawSpeed, playedAt } from '../data/augment.js';
import { SILENCE, UNKNOWN } from '../spec/labels.js';
import { fitToLength, LogMel } from '../features/logmel.js';
import type { FeatureParams } from '../features/params.js';
import { type Rng, rngFor } from '../util/rng.js';

/**
 * A few examples of each new word, and what is not a word: every waveform at the features' sample
 * rate. Clips are fitted to the clip length (centre-cut or padded); noise recordings and speech
 * that is no word of the set may be of any length (1 s windows are cut from them).
 */
export interface FewShotExamples {
  /** the new words' clips, by label */
  words: Map<string, Float32Array[]>;
  /** background recordings: _silence_ windows, and the noise mixed into every other example */
  noise: Float32Array[];
  /** speech that is none of the words (other words, sentences): _unknown_ windows */
  unknown: Float32Array[];
}

/** How a handful of clips becomes a training set for the heads. */
export interface FewShotAugment {
  /** examples of each word: its clips, and augmented copies of them in turn up to this many (fewer clips, more copies of each) */
  perWord: number;
  /** random time shift of a copy, up to this many seconds either way */
  maxShiftSeconds: number;
  /**
   * a copy's speed (and with it pitch and formants) scaled by a factor uniform in [1 - s, 1 + s],
   * in steps of 1/40: another speaker's voice, roughly (speed perturbation, Ko et al., 2015)
   */
  speedSpread: number;
  /** share of copies with background noise mixed in, at an SNR uniform in snrDb */
  noiseProbability: number;
  snrDb: [number, number];
  /** _silence_ and _unknown_ examples, each as many as this share of a word's */
  negativeShare: number;
}

/**
 * Each word 200 examples, however few its clips: faster or slower by up to 15%, shifted by up to
 * 0.25 s, in noise from 0 to 25 dB below the word (docs/custom-words.md has what each part buys,
 * measured on the training split's speakers).
 */
export const DEFAULT_FEW_SHOT_AUGMENT: FewShotAugment = {
  perWord: 200,
  maxShiftSeconds: 0.25,
  speedSpread: 0.15,
  noiseProbability: 0.8,
  snrDb: [0, 25],
  negativeShare: 1,
};

/** The classes of a custom model: the words, and _silence_ and _unknown_ (sorted, as a dataset's classes are). */
export function customLabels(words: Iterable<string>): string[] {
  return [...new Set([...words, SILENCE, UNKNOWN])].sort();
}

/** One example: its log-mel features, its class (an index into customLabels) and where it came from. */
export interface FeatureExample {
  features: Float32Array;
  label: number;
  /** which of its class's clips it is a copy of (a negative window: its own index): copies of one source are not independent */
  source: number;
}

/** A window of `length` samples of x at a random offset (x zero-padded where shorter). */
function window(x: Float32Array, length: number, rng: Rng): Float32Array {
  if (x.length <= length) return fitToLength(x, length);
  const at = Math.floor(rng() * (x.length - length + 1));
  return x.slice(at, at + length);
}

/** The clip played faster or slower by a factor in [1 - spread, 1 + spread] (a multiple of 1/40), fitted back to its length. */
const sped = (clip: Float32Array, spread: number, sampleRate: number, rng: Rng) => playedAt(clip, drawSpeed(rng, spread), sampleRate);

/** The clip moved by up to maxShift samples either way (vacated samples zero). */
function shifted(clip: Float32Array, maxShift: number, rng: Rng): Float32Array {
  const shift = Math.round((2 * rng() - 1) * maxShift);
  const out = new Float32Array(clip.length);
  if (shift >= 0) out.set(clip.subarray(0, clip.length - shift), shift);
  else out.set(clip.subarray(-shift));
  return out;
}

/** Copies of each of `clips` clips that make up `perWord` examples (at least the clips themselves). */
const copiesOf = (clips: number, perWord: number) => Array.from({ length: clips }, (_, i) => Math.floor((Math.max(clips, perWord) - 1 - i) / clips));

/** Word examples (each clip and its copies), and as many _silence_ and _unknown_ examples as a word has on average. */
function exampleCounts(examples: FewShotExamples, plan: FewShotAugment): { words: number; negatives: number } {
  const words = [...examples.words.values()].reduce((n, c) => n + Math.max(c.length, plan.perWord), 0);
  return { words, negatives: Math.max(1, Math.round((plan.negativeShare * words) / examples.words.size)) };
}

/** How many examples augmentedExamples makes. */
export function exampleCount(examples: FewShotExamples, plan: FewShotAugment): number {
  const { words, negatives } = exampleCounts(examples, plan);
  return words + negatives * (examples.unknown.length ? 2 : 1);
}

/**
 * The examples the heads train on, made one at a time (each clip's features are computed, used and
 * dropped): every word clip as given and in augmented copies (perWord in all); then _silence_ windows
 * of the noise at random levels (a tenth of them digital silence) and _unknown_ windows of the
 * other speech, each mixed with noise as the words are. Deterministic for a seed.
 */
export function* augmentedExamples(examples: FewShotExamples, params: FeatureParams, plan: FewShotAugment, seed: number): Generator<FeatureExample> {
  const labels = customLabels(examples.words.keys());
  const logMel = new LogMel(params);
  const length = params.clipSamples;
  const maxShift = Math.round(plan.maxShiftSeconds * params.sampleRate);
  const rng = rngFor(seed, 21);
  const noisy = (clip: Float32Array) => {
    if (!examples.noise.length || rng() >= plan.noiseProbability) return clip;
    const noise = window(examples.noise[Math.floor(rng() * examples.noise.length)], length, rng);
    const [low, high] = plan.snrDb;
    const gain = gainForSnr(clip, noise, low + (high - low) * rng());
    const out = new Float32Array(length);
    for (let i = 0; i < length; i++) out[i] = clip[i] + gain * noise[i];
    return out;
  };
  const example = (samples: Float32Array, label: string, source: number): FeatureExample => ({
    features: logMel.compute(samples).data,
    label: labels.indexOf(label),
    source,
  });

  for (const [label, clips] of examples.words) {
    const copies = copiesOf(clips.length, plan.perWord);
    for (const [i, clip] of clips.entries()) {
      const fitted = fitToLength(clip, length);
      yield example(fitted, label, i);
      for (let c = 0; c < copies[i]; c++) yield example(noisy(shifted(sped(fitted, plan.speedSpread, params.sampleRate, rng), maxShift, rng)), label, i);
    }
  }
  const { negatives } = exampleCounts(examples, plan);
  for (let i = 0; i < negatives; i++) {
    const quiet = new Float32Array(length);
    if (examples.noise.length && rng() >= 0.1) {
      const noise = window(examples.noise[Math.floor(rng() * examples.noise.length)], length, rng);
      // levels from a whisper of the recording to twice it, evenly in decibels
      const gain = 10 ** ((-40 + 46 * rng()) / 20);
      for (let k = 0; k < length; k++) quiet[k] = gain * noise[k];
    }
    yield example(quiet, SILENCE, i);
  }
  if (examples.unknown.length) {
    for (let i = 0; i < negatives; i++) yield example(noisy(window(examples.unknown[Math.floor(rng() * examples.unknown.length)], length, rng)), UNKNOWN, i);
  }
}
