import { readWav, type Audio } from '../audio/wav.js';
import { type Clip } from '../data/dataset.js';
import { LogMel } from './logmel.js';
import { type FeatureParams } from './params.js';

export type ClipSource = Pick<Clip, 'file' | 'window'>;

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

  /** Features of one clip; throws a BeeError naming the file if it cannot be decoded. */
  featurize(clip: ClipSource): Float32Array {
    if (this.last?.file !== clip.file) this.last = { file: clip.file, audio: readWav(clip.file) };
    const { audio } = this.last;
    const samples = clip.window
      ? audio.samples.subarray(clip.window.start, clip.window.start + clip.window.length)
      : audio.samples;
    return this.logMel.fromAudio({ sampleRate: audio.sampleRate, samples }).data;
  }
}
