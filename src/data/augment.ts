import { gainForSnr } from '../audio/level.js';
import { resample } from '../audio/resample.js';
import { fitToLength } from '../features/logmel.js';
import type { Rng } from '../util/rng.js';

/** Waveform augmentation, as in the Speech Commands recipe. */
export interface AugmentOptions {
  /** Random time shift, up to this many seconds either way. */
  maxShiftSeconds: number;
  /** Share of clips that get background noise mixed in. */
  noiseProbability: number;
  /** Noise gain is uniform in [0, maxNoiseGain] (without snrDb). */
  maxNoiseGain: number;
  /**
   * The noise at a signal-to-noise ratio uniform in [min, max] dB instead of a gain: the clip's RMS
   * over its window against the noise segment's (absent in runs saved before it existed: gains).
   */
  snrDb?: [number, number];
  /**
   * Share of word clips shifted mostly out of the window (by 0.5-0.8 s, either way) and labelled
   * _unknown_: a stream's window sees every word partly, on its way in and out, and must not name
   * it from a fragment (absent: none).
   */
  cutWords?: number;
  /**
   * Examples added to each epoch, as a share of the training clips: 1 s windows at random offsets
   * of sentences with no keyword, spoken by the offline synthesizer (TRAINING_SENTENCES), labelled
   * _unknown_: the speech between commands that a stream hears and a word-clip dataset lacks
   * (absent: none).
   */
  synthNegatives?: number;
  /** SpecAugment's masks on the log-mel features (absent in runs saved before they existed: none). */
  specAugment?: SpecAugmentOptions;
  /**
   * Each clip played faster or slower by a factor uniform in [1 - s, 1 + s] in steps of 1/40 (its
   * pitch and formants with it): another speaker's voice, roughly (speed perturbation, Ko et al.
   * 2015; absent: none).
   */
  speedSpread?: number;
}

/**
 * SpecAugment (Park et al., 2019) without time warping: `timeMasks` bands of up to `maxTimeMask`
 * frames and `freqMasks` bands of up to `maxFreqMask` mel bins, each width uniform in [0, max],
 * set to the clip's mean log-mel value (the features are not normalized, so 0 would be loud).
 */
export interface SpecAugmentOptions {
  timeMasks: number;
  maxTimeMask: number;
  freqMasks: number;
  maxFreqMask: number;
}

export const DEFAULT_SPEC_AUGMENT: SpecAugmentOptions = { timeMasks: 2, maxTimeMask: 10, freqMasks: 2, maxFreqMask: 8 };

/** SpecAugment is opt-in (--spec-augment): on 3,646 clips the network underfits in 50 epochs, and the masks cost accuracy (docs/recipe.md's ablation). */
export const DEFAULT_AUGMENT: AugmentOptions = { maxShiftSeconds: 0.1, noiseProbability: 0.8, maxNoiseGain: 0.1 };

/** What to do to one clip; drawn in the main thread from the epoch's generator, applied in a worker. */
export interface ClipAugmentation {
  /** Samples to move the audio later (negative: earlier); vacated samples are zero. */
  shift: number;
  /** a noise segment, at a gain or at an SNR (dB, against the shifted clip) */
  noise?: { index: number; offset: number; gain: number } | { index: number; offset: number; snrDb: number };
  /** the clip is cut (cutWords): its label becomes _unknown_ */
  cut?: true;
  /** a synthesized sentence's example (synthNegatives): the sample its 1 s window starts at */
  crop?: number;
  /** [first, count] bands of frames and of mel bins to mask */
  masks?: { time: [number, number][]; freq: [number, number][] };
  /** the clip played this many times as fast (speedSpread), before it is shifted */
  speed?: number;
}

/** A speed factor in [1 - spread, 1 + spread], a multiple of 1/40 (a few resampling filters serve every draw). */
export function drawSpeed(rng: Rng, spread: number): number {
  const steps = Math.floor(spread * 40);
  return 1 + (Math.floor(rng() * (2 * steps + 1)) - steps) / 40;
}

/** The clip played `factor` times as fast, fitted back to its length (centre-cut or padded). */
export function playedAt(clip: Float32Array, factor: number, sampleRate: number): Float32Array {
  if (factor === 1) return clip;
  return fitToLength(resample(clip, Math.round(sampleRate * factor), sampleRate), clip.length);
}

function drawBands(rng: Rng, count: number, maxWidth: number, size: number): [number, number][] {
  return Array.from({ length: count }, () => {
    const width = Math.min(size, Math.floor(rng() * (maxWidth + 1)));
    return [Math.floor(rng() * (size - width + 1)), width];
  });
}

/** SpecAugment's bands for one clip of `frames` x `melBins` features. */
export function drawMasks(rng: Rng, options: SpecAugmentOptions, frames: number, melBins: number): NonNullable<ClipAugmentation['masks']> {
  return { time: drawBands(rng, options.timeMasks, options.maxTimeMask, frames), freq: drawBands(rng, options.freqMasks, options.maxFreqMask, melBins) };
}

/** Sets the masked frames and bins of one clip's features (frames x melBins, row-major) to their mean, in place. */
export function applyMasks(features: Float32Array, masks: NonNullable<ClipAugmentation['masks']>, melBins: number): void {
  let sum = 0;
  for (const v of features) sum += v;
  const mean = sum / features.length;
  for (const [first, count] of masks.time) features.fill(mean, first * melBins, (first + count) * melBins);
  for (const [first, count] of masks.freq) {
    for (let at = 0; at < features.length; at += melBins) features.fill(mean, at + first, at + first + count);
  }
}

/** The synthesized negatives' voices: 8 speakers of a seed no negative stream uses (streams: seeds from 1). */
export const SENTENCE_VOICES = 8;
export const SENTENCE_SEED = 1_000_003;

/** How far a cut word is shifted, in seconds either way: most of a Speech Commands word (0.3-0.7 s of its clip) leaves the window. */
export const CUT_SHIFT_SECONDS: [number, number] = [0.5, 0.8];

/**
 * One clip's augmentation. `cuttable`: the clip holds a word that a cut turns into _unknown_
 * (not _silence_, not already _unknown_).
 */
export function drawAugmentation(
  rng: Rng,
  options: AugmentOptions,
  params: { sampleRate: number; clipSamples: number; frames: number; melBins: number },
  noiseLengths: number[],
  cuttable = false,
): ClipAugmentation {
  const maxShift = Math.round(options.maxShiftSeconds * params.sampleRate);
  const aug: ClipAugmentation = { shift: Math.round((rng() * 2 - 1) * maxShift) };
  const usable = noiseLengths.map((n, i) => [i, n] as const).filter(([, n]) => n >= params.clipSamples);
  if (usable.length > 0 && rng() < options.noiseProbability) {
    const [index, length] = usable[Math.floor(rng() * usable.length)];
    const offset = Math.floor(rng() * (length - params.clipSamples + 1));
    const [low, high] = options.snrDb ?? [0, 0];
    aug.noise = options.snrDb ? { index, offset, snrDb: low + (high - low) * rng() } : { index, offset, gain: rng() * options.maxNoiseGain };
  }
  // Drawn last, so runs without masks or cuts draw the same shifts and noise as before they existed.
  if (options.specAugment) aug.masks = drawMasks(rng, options.specAugment, params.frames, params.melBins);
  if (options.cutWords && cuttable && rng() < options.cutWords) {
    const [low, high] = CUT_SHIFT_SECONDS;
    const seconds = low + (high - low) * rng();
    aug.shift = Math.round((rng() < 0.5 ? -1 : 1) * seconds * params.sampleRate);
    aug.cut = true;
  }
  if (options.speedSpread) {
    const speed = drawSpeed(rng, options.speedSpread);
    if (speed !== 1) aug.speed = speed;
  }
  return aug;
}

/** Applies an augmentation to a clip already fitted to its length; returns a new array. */
export function applyAugmentation(fitted: Float32Array, aug: ClipAugmentation, noises: Float32Array[], sampleRate: number): Float32Array {
  const clip = aug.speed ? playedAt(fitted, aug.speed, sampleRate) : fitted;
  const n = clip.length;
  const out = new Float32Array(n);
  const from = Math.max(0, aug.shift);
  const to = Math.min(n, n + aug.shift);
  out.set(clip.subarray(from - aug.shift, to - aug.shift), from);
  if (aug.noise) {
    const noise = noises[aug.noise.index].subarray(aug.noise.offset, aug.noise.offset + n);
    const gain = 'snrDb' in aug.noise ? gainForSnr(out, noise, aug.noise.snrDb) : aug.noise.gain;
    for (let i = 0; i < n; i++) out[i] += gain * noise[i];
  }
  return out;
}
