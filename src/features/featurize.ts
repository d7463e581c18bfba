import { readWav, type Audio } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { fitToLength, LogMel } from './logmel.js';
import type { FeatureParams } from './params.js';

/** A clip to featurize: a file, or a window of it (in samples at the file's own rate). */
export interface ClipSource {
  file: string;
  window?: { start: number; length: number };
}

/**
 * Featurizes clips one after another, keeping the last decoded file so that consecutive windows of
 * one long recording (silence cut from background noise) decode it once.
 */
export class ClipFeaturizer {
  private readonly logMel: LogMel;
  private last?: { file: string; audio: Audio };

  constructor(params: FeatureParams) {
    this.logMel = new LogMel(params);
  }

  get featureSize(): number {
    return this.logMel.frames * this.logMel.params.melBins;
  }

  /** A clip's samples at the feature rate, fitted to the clip length; throws a BeeError naming an undecodable file. */
  samples(clip: ClipSource): Float32Array {
    if (this.last?.file !== clip.file) this.last = { file: clip.file, audio: readWav(clip.file) };
    const { audio } = this.last;
    const samples = clip.window ? audio.samples.subarray(clip.window.start, clip.window.start + clip.window.length) : audio.samples;
    const { sampleRate, clipSamples } = this.logMel.params;
    return fitToLength(resample(samples, audio.sampleRate, sampleRate), clipSamples);
  }

  /** A whole recording at the feature rate, not fitted to the clip length (noise, or speech to cut windows from). */
  recording(file: string): Float32Array {
    const audio = readWav(file);
    return resample(audio.samples, audio.sampleRate, this.logMel.params.sampleRate);
  }

  /** Features of samples at the feature rate. */
  features(samples: Float32Array): Float32Array {
    return this.logMel.compute(samples).data;
  }

  /** Features of one clip; throws a BeeError naming an undecodable file. */
  featurize(clip: ClipSource): Float32Array {
    return this.features(this.samples(clip));
  }
}
