import { MAX_WAV_BYTES, readWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { type Dataset, SILENCE } from '../data/dataset.js';
import type { SplitName } from '../data/split.js';
import { BeeError } from '../errors.js';
import { gainForSnr } from '../audio/level.js';
import { mulberry32 } from '../util/rng.js';
import type { TruthEvent } from './score.js';

export interface StreamOptions {
  split: SplitName;
  /** background noise recordings, looped under the whole stream; none: silence */
  noiseFiles: string[];
  /** the noise recordings' level: 1 as recorded (Speech Commands': RMS 0.002-0.006), 0 none */
  noiseGain: number;
  /** words (not _silence_ clips) scaled to this many dB above the noise under them (RMS over the clip); absent: as recorded */
  snrDb?: number;
  /** silence between clips, uniform in [min, max] seconds */
  gap: [number, number];
  seed: number;
  sampleRate: number;
}

export const DEFAULT_STREAM: Omit<StreamOptions, 'split' | 'noiseFiles'> = { noiseGain: 1, gap: [1, 3], seed: 1, sampleRate: 16000 };

/**
 * A long recording of a split's clips (in a seeded random order) at random gaps, over background noise looped from `noiseFiles`, and its truth: each
 * clip's span and label. The words are where the clips are: a Speech Commands clip holds its word
 * somewhere in its 1 s.
 */
export function buildStream(
  dataset: Dataset,
  options: StreamOptions,
  onClip?: (done: number, total: number) => void,
): { samples: Float32Array; truth: TruthEvent[] } {
  // every clip file of the split (_silence_ ones too: noise a listener must not report); not windows cut from noise recordings
  const clips = dataset.clips.filter((c) => c.split === options.split && !c.window);
  if (!clips.length) throw new BeeError(`the ${options.split} split has no clips to stream`, { file: dataset.root, hint: 'pick another --split' });
  const rng = mulberry32(options.seed);
  for (let i = clips.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [clips[i], clips[j]] = [clips[j], clips[i]];
  }
  const rate = options.sampleRate;
  const [gapMin, gapMax] = options.gap;
  // What bee listen can read back: a 16-bit WAV of at most MAX_WAV_BYTES (1 s a clip at most, as Speech Commands')
  const longest = clips.length * (gapMax + 1) + gapMin;
  if (longest * rate * 2 > MAX_WAV_BYTES)
    throw new BeeError(
      `${clips.length} clips at gaps up to ${gapMax} s may make a stream of ${(longest / 3600).toFixed(1)} h, beyond what a WAV bee reads holds`,
      {
        file: dataset.root,
        hint: 'stream a smaller split, or shorter --gap',
      },
    );
  const pieces: { at: number; samples: Float32Array; label: string }[] = [];
  let at = 0;
  clips.forEach((clip, i) => {
    at += Math.round((gapMin + (gapMax - gapMin) * rng()) * rate);
    const audio = readWav(clip.file);
    const samples = resample(audio.samples, audio.sampleRate, rate);
    pieces.push({ at, samples, label: clip.label });
    at += samples.length;
    onClip?.(i + 1, clips.length);
  });
  at += Math.round(gapMin * rate);
  const out = new Float32Array(at);
  addNoise(out, options, rate);
  for (const p of pieces) {
    const gain = options.snrDb === undefined || p.label === SILENCE ? 1 : gainForSnr(out.subarray(p.at, p.at + p.samples.length), p.samples, -options.snrDb);
    for (let k = 0; k < p.samples.length; k++) out[p.at + k] += gain * p.samples[k];
  }
  for (let k = 0; k < out.length; k++) out[k] = Math.max(-1, Math.min(1, out[k]));
  const truth = pieces.map((p) => ({ start: p.at / rate, end: (p.at + p.samples.length) / rate, label: p.label }));
  return { samples: out, truth };
}

/** The noise recordings one after another, looped to the stream's length, times noiseGain. */
function addNoise(out: Float32Array, options: StreamOptions, rate: number): void {
  if (!options.noiseFiles.length || options.noiseGain === 0) return;
  const noise = options.noiseFiles
    .map((f) => {
      const audio = readWav(f);
      return resample(audio.samples, audio.sampleRate, rate);
    })
    .filter((n) => n.length > 0);
  if (!noise.length)
    throw new BeeError('the noise recordings hold no samples', { file: options.noiseFiles[0], hint: 'pass other --noise-dir recordings, or --noise-gain 0' });
  let k = 0;
  while (k < out.length) {
    for (const n of noise) for (let j = 0; j < n.length && k < out.length; j++, k++) out[k] = options.noiseGain * n[j];
  }
}

/** The truth as CSV: `start,end,label`, seconds to the millisecond. */
export function truthCsv(truth: TruthEvent[]): string {
  return `start,end,label\n${truth.map((t) => `${t.start.toFixed(3)},${t.end.toFixed(3)},${t.label}`).join('\n')}\n`;
}
