import type { Rng } from './rng.js';

/** Waveform augmentation, as in the Speech Commands recipe. */
export interface AugmentOptions {
  /** Random time shift, up to this many seconds either way. */
  maxShiftSeconds: number;
  /** Share of clips that get background noise mixed in. */
  noiseProbability: number;
  /** Noise gain is uniform in [0, maxNoiseGain]. */
  maxNoiseGain: number;
  /** SpecAugment's masks on the log-mel features (absent in runs saved before they existed: none). */
  specAugment?: SpecAugmentOptions;
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

/** SpecAugment is opt-in (--spec-augment): on 3,646 clips the network underfits in 50 epochs, and the masks cost accuracy (README's ablation). */
export const DEFAULT_AUGMENT: AugmentOptions = { maxShiftSeconds: 0.1, noiseProbability: 0.8, maxNoiseGain: 0.1 };

/** What to do to one clip; drawn in the main thread from the epoch's generator, applied in a worker. */
export interface ClipAugmentation {
  /** Samples to move the audio later (negative: earlier); vacated samples are zero. */
  shift: number;
  noise?: { index: number; offset: number; gain: number };
  /** [first, count] bands of frames and of mel bins to mask */
  masks?: { time: [number, number][]; freq: [number, number][] };
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

export function drawAugmentation(
  rng: Rng,
  options: AugmentOptions,
  params: { sampleRate: number; clipSamples: number; frames: number; melBins: number },
  noiseLengths: number[],
): ClipAugmentation {
  const maxShift = Math.round(options.maxShiftSeconds * params.sampleRate);
  const aug: ClipAugmentation = { shift: Math.round((rng() * 2 - 1) * maxShift) };
  const usable = noiseLengths.map((n, i) => [i, n] as const).filter(([, n]) => n >= params.clipSamples);
  if (usable.length > 0 && rng() < options.noiseProbability) {
    const [index, length] = usable[Math.floor(rng() * usable.length)];
    aug.noise = { index, offset: Math.floor(rng() * (length - params.clipSamples + 1)), gain: rng() * options.maxNoiseGain };
  }
  // Drawn last, so runs without masks draw the same shifts and noise as before they existed.
  if (options.specAugment) aug.masks = drawMasks(rng, options.specAugment, params.frames, params.melBins);
  return aug;
}

/** Applies an augmentation to a clip already fitted to its length; returns a new array. */
export function applyAugmentation(clip: Float32Array, aug: ClipAugmentation, noises: Float32Array[]): Float32Array {
  const n = clip.length;
  const out = new Float32Array(n);
  const from = Math.max(0, aug.shift);
  const to = Math.min(n, n + aug.shift);
  out.set(clip.subarray(from - aug.shift, to - aug.shift), from);
  if (aug.noise) {
    const noise = noises[aug.noise.index].subarray(aug.noise.offset, aug.noise.offset + n);
    for (let i = 0; i < n; i++) out[i] += aug.noise.gain * noise[i];
  }
  return out;
}
