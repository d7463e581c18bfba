import type { Audio } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { melFilterbank } from './mel.js';
import { eigenCosF32 } from './eigen-cos.js';
import { MelSpectrum } from './spectrum.js';
import { frameCount, type FeatureParams, PAPER_FEATURES } from './params.js';

/** Log-mel features of one clip: `frames` rows of `melBins` values, row-major. */
export interface Features {
  frames: number;
  melBins: number;
  data: Float32Array;
}

/** Centre zero-pads (floor of the deficit before, the rest after) or centre-crops to `length`. */
export function fitToLength(samples: Float32Array, length: number): Float32Array {
  if (samples.length === length) return samples;
  const out = new Float32Array(length);
  if (samples.length < length) out.set(samples, Math.floor((length - samples.length) / 2));
  else out.set(samples.subarray(Math.floor((samples.length - length) / 2)).subarray(0, length));
  return out;
}

/**
 * The periodic Hann window exactly as `tf.signal.hann_window` computes it: float32 throughout, with
 * Eigen's float32 cosine. Its rounding matters: a window error of one float32 ulp leaks that
 * fraction of a loud low band into the quietest top mel bands, moving their log by 1e-3.
 */
function tfHannWindow(length: number): Float32Array {
  const f = Math.fround;
  const twoPi = f(2 * Math.PI);
  return Float32Array.from({ length }, (_, n) => f(0.5 - f(0.5 * eigenCosF32(f(f(twoPi * n) / length)))));
}

/**
 * Computes log-mel features exactly as the paper's TensorFlow pipeline: `tf.signal.stft` (periodic
 * Hann window, frames zero-padded to the FFT length, no end padding), magnitude,
 * `linear_to_mel_weight_matrix`, `log(mel + offset)`. The arithmetic before the log runs in
 * WebAssembly (spectrum.as.ts), a clip at a time; one instance owns its module's memory.
 */
export class LogMel {
  readonly frames: number;
  private readonly spectrum: MelSpectrum;

  constructor(readonly params: FeatureParams = PAPER_FEATURES) {
    const { frameLength, fftLength, frameStep, melBins, sampleRate, lowerHz, upperHz } = params;
    this.frames = frameCount(params);
    const mel = melFilterbank(melBins, fftLength / 2 + 1, sampleRate, lowerHz, upperHz);
    this.spectrum = new MelSpectrum(tfHannWindow(frameLength), fftLength, mel, frameStep, this.frames);
  }

  /** Features of a clip already at `params.sampleRate` (any length: it is fitted first). */
  compute(samples: Float32Array): Features {
    const { clipSamples, melBins } = this.params;
    const data = new Float32Array(this.frames * melBins);
    this.logInto(this.spectrum.sums(fitToLength(samples, clipSamples), this.frames), data, 0);
    return { frames: this.frames, melBins, data };
  }

  /**
   * One frame: the `frameLength` samples from `offset` of `samples`, windowed, transformed and
   * mel-binned, into melBins values of `out` from `outOffset`. A frame depends on its samples
   * alone, so a stream's frames are computed once each (StreamingLogMel) and equal a clip's.
   */
  frameInto(samples: Float32Array, offset: number, out: Float32Array, outOffset: number): void {
    this.logInto(this.spectrum.sums(samples.subarray(offset), 1), out, outOffset);
  }

  private logInto(sums: Float64Array, out: Float32Array, outOffset: number): void {
    const { logOffset } = this.params;
    for (let i = 0; i < sums.length; i++) out[outOffset + i] = Math.log(sums[i] + logOffset);
  }

  /** Features of decoded audio at any sample rate. */
  fromAudio(audio: Audio): Features {
    return this.compute(resample(audio.samples, audio.sampleRate, this.params.sampleRate));
  }
}
