import { type Rng } from './rng.js';

/** Waveform augmentation, as in the Speech Commands recipe. */
export interface AugmentOptions {
  /** Random time shift, up to this many seconds either way. */
  maxShiftSeconds: number;
  /** Share of clips that get background noise mixed in. */
  noiseProbability: number;
  /** Noise gain is uniform in [0, maxNoiseGain]. */
  maxNoiseGain: number;
}

export const DEFAULT_AUGMENT: AugmentOptions = { maxShiftSeconds: 0.1, noiseProbability: 0.8, maxNoiseGain: 0.1 };

/** What to do to one clip; drawn in the main thread from the epoch's generator, applied in a worker. */
export interface ClipAugmentation {
  /** Samples to move the audio later (negative: earlier); vacated samples are zero. */
  shift: number;
  noise?: { index: number; offset: number; gain: number };
}

export function drawAugmentation(rng: Rng, options: AugmentOptions, sampleRate: number, clipSamples: number, noiseLengths: number[]): ClipAugmentation {
  const maxShift = Math.round(options.maxShiftSeconds * sampleRate);
  const shift = Math.round((rng() * 2 - 1) * maxShift);
  const usable = noiseLengths.map((n, i) => [i, n] as const).filter(([, n]) => n >= clipSamples);
  if (usable.length === 0 || rng() >= options.noiseProbability) return { shift };
  const [index, length] = usable[Math.floor(rng() * usable.length)];
  return { shift, noise: { index, offset: Math.floor(rng() * (length - clipSamples + 1)), gain: rng() * options.maxNoiseGain } };
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
