import type { Audio } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { melFilterbank, type MelFilterbank } from './mel.js';
import { eigenCosF32 } from './eigen-cos.js';
import { Float32RealFFT } from './rfft32.js';
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
function tfHannWindow(length: number): Float64Array {
  const f = Math.fround;
  const twoPi = f(2 * Math.PI);
  return Float64Array.from({ length }, (_, n) => f(0.5 - f(0.5 * eigenCosF32(f(f(twoPi * n) / length)))));
}

/**
 * Computes log-mel features exactly as the paper's TensorFlow pipeline: `tf.signal.stft` (periodic
 * Hann window, frames zero-padded to the FFT length, no end padding), magnitude,
 * `linear_to_mel_weight_matrix`, `log(mel + offset)`. One instance owns its scratch buffers.
 */
export class LogMel {
  readonly frames: number;
  private readonly fft: Float32RealFFT;
  private readonly window: Float64Array;
  private readonly mel: MelFilterbank;
  private readonly frame: Float64Array;
  private readonly magnitude: Float64Array;

  constructor(readonly params: FeatureParams = PAPER_FEATURES) {
    const { frameLength, fftLength, melBins, sampleRate, lowerHz, upperHz } = params;
    if (frameLength > fftLength) throw new RangeError(`frame length ${frameLength} exceeds FFT length ${fftLength}`);
    this.frames = frameCount(params);
    this.fft = new Float32RealFFT(fftLength);
    this.window = tfHannWindow(frameLength);
    this.mel = melFilterbank(melBins, fftLength / 2 + 1, sampleRate, lowerHz, upperHz);
    this.frame = new Float64Array(fftLength);
    this.magnitude = new Float64Array(fftLength / 2 + 1);
  }

  /** Features of a clip already at `params.sampleRate` (any length: it is fitted first). */
  compute(samples: Float32Array): Features {
    const { clipSamples, frameStep, melBins } = this.params;
    const clip = fitToLength(samples, clipSamples);
    const data = new Float32Array(this.frames * melBins);
    for (let f = 0; f < this.frames; f++) this.frameInto(clip, f * frameStep, data, f * melBins);
    return { frames: this.frames, melBins, data };
  }

  /**
   * One frame: the `frameLength` samples from `offset` of `samples`, windowed, transformed and
   * mel-binned, into melBins values of `out` from `outOffset`. A frame depends on its samples
   * alone, so a stream's frames are computed once each (StreamingLogMel) and equal a clip's.
   */
  frameInto(samples: Float32Array, offset: number, out: Float32Array, outOffset: number): void {
    const { frameLength, melBins, logOffset } = this.params;
    const { frame, magnitude, window } = this;
    const { start, weights } = this.mel;
    for (let n = 0; n < frameLength; n++) frame[n] = Math.fround(samples[offset + n] * window[n]);
    this.fft.magnitudes(frame, magnitude);
    for (let b = 0; b < melBins; b++) {
      const w = weights[b];
      const s = start[b];
      let acc = 0;
      for (let j = 0; j < w.length; j++) acc += magnitude[s + j] * w[j];
      out[outOffset + b] = Math.log(acc + logOffset);
    }
  }

  /** Features of decoded audio at any sample rate. */
  fromAudio(audio: Audio): Features {
    return this.compute(resample(audio.samples, audio.sampleRate, this.params.sampleRate));
  }
}
