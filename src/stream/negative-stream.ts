import { readWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { type Dataset, UNKNOWN } from '../data/dataset.js';
import type { SplitName } from '../data/split.js';
import { BeeError } from '../errors.js';
import { rms } from '../audio/level.js';
import { speakSentences, STREAM_SENTENCES } from '../synth/sentences.js';
import { rngFor, type Rng } from '../util/rng.js';
import type { TruthEvent } from './score.js';

export interface NegativeStreamOptions {
  /** the length, in hours */
  hours: number;
  /** whose _unknown_ clips speak (the other half of the speech is synthesized sentences) */
  split: SplitName;
  /** background-noise recordings: the bed under the whole stream (none: silence) */
  noiseFiles: string[];
  /** seconds between the ends and starts of speech, uniform in [min, max] */
  gap: [number, number];
  seed: number;
  sampleRate: number;
  /** synthesized speakers of the sentences (the voices cycle through flite's five) */
  voices: number;
}

export const DEFAULT_NEGATIVE_STREAM: Omit<NegativeStreamOptions, 'split' | 'noiseFiles' | 'hours'> = { gap: [1, 8], seed: 1, sampleRate: 16000, voices: 6 };

/** Noise-bed segments last 5-30 s; one in four layers a second recording; gains of the recordings as recorded x [0.3, 1.5], one segment in eight near-quiet (x 0.05). */
const SEGMENT_SECONDS: [number, number] = [5, 30];
const GAIN: [number, number] = [0.3, 1.5];
const QUIET_GAIN = 0.05;
const FADE_SECONDS = 0.05;
/** Speech levels: RMS of a Speech Commands word clip (median ~0.06) x [0.5, 1.5]; _unknown_ clips as recorded x the same factor. */
const SPEECH_RMS = 0.06;
const SPEECH_FACTOR: [number, number] = [0.5, 1.5];

const uniform = (rng: Rng, [low, high]: [number, number]) => low + (high - low) * rng();

/** One layer of the noise bed: a recording from a random offset, looped, at a gain. */
interface Layer {
  noise: Float32Array;
  at: number;
  gain: number;
}

/**
 * Hours of audio with no keyword in it, written a block at a time: a bed of the background-noise
 * recordings (segments of random length, offset, gain and mix, so no hour is one loop) under
 * speech that is no keyword: the split's `_unknown_` clips and sentences spoken by the offline
 * synthesizer in several voices, at random gaps. The truth lists each utterance as `_unknown_`
 * (nothing bee listen reports). The same seed writes the same samples.
 */
export function writeNegativeStream(
  dataset: Dataset,
  options: NegativeStreamOptions,
  write: (block: Float32Array) => void,
  onProgress?: (doneSeconds: number, totalSeconds: number) => void,
): TruthEvent[] {
  const rate = options.sampleRate;
  const clips = dataset.clips.filter((c) => c.split === options.split && c.label === UNKNOWN && !c.window);
  if (!clips.length)
    throw new BeeError(`the ${options.split} split has no ${UNKNOWN} clips`, {
      file: dataset.root,
      hint: `a negative stream speaks the split's ${UNKNOWN} words`,
    });
  const words = clips.map((c) => {
    const audio = readWav(c.file);
    return resample(audio.samples, audio.sampleRate, rate);
  });
  const sentences = speakSentences(STREAM_SENTENCES, options.voices, options.seed, rate);
  const noises = options.noiseFiles.map((f) => {
    const audio = readWav(f);
    return resample(audio.samples, audio.sampleRate, rate);
  });
  const usableNoises = noises.filter((n) => n.length >= rate);

  const total = Math.round(options.hours * 3600 * rate);
  const speechRng = rngFor(options.seed, 1);
  const bedRng = rngFor(options.seed, 2);
  // The utterances, planned up front (a few thousand an hour at most).
  const events: { at: number; samples: Float32Array; gain: number }[] = [];
  for (let at = Math.round(uniform(speechRng, options.gap) * rate); ; ) {
    const sentence = speechRng() < 0.5;
    const source = sentence ? sentences[Math.floor(speechRng() * sentences.length)] : words[Math.floor(speechRng() * words.length)];
    const factor = uniform(speechRng, SPEECH_FACTOR);
    if (at + source.length > total) break;
    events.push({ at, samples: source, gain: sentence ? (SPEECH_RMS * factor) / rms(source) : factor });
    at += source.length + Math.round(uniform(speechRng, options.gap) * rate);
  }

  const fade = Math.round(FADE_SECONDS * rate);
  let layers: Layer[] = [];
  let segmentLeft = 0;
  let segmentLength = 0;
  const block = rate * 10;
  let next = 0; // the first event not yet finished
  for (let start = 0; start < total; start += block) {
    const out = new Float32Array(Math.min(block, total - start));
    for (let i = 0; i < out.length; i++) {
      if (segmentLeft === 0) {
        segmentLength = segmentLeft = Math.round(uniform(bedRng, SEGMENT_SECONDS) * rate);
        layers = usableNoises.length ? drawLayers(bedRng, usableNoises) : [];
      }
      // fade in and out at the segment's edges: no clicks between segments
      const into = segmentLength - segmentLeft;
      const edge = Math.min(1, (into + 1) / fade, segmentLeft / fade);
      let x = 0;
      for (const layer of layers) {
        x += layer.gain * layer.noise[layer.at];
        layer.at = (layer.at + 1) % layer.noise.length;
      }
      out[i] = edge * x;
      segmentLeft--;
    }
    while (next < events.length && events[next].at + events[next].samples.length <= start) next++;
    for (let e = next; e < events.length && events[e].at < start + out.length; e++) {
      const { at, samples, gain } = events[e];
      const from = Math.max(at, start);
      const to = Math.min(at + samples.length, start + out.length);
      for (let k = from; k < to; k++) out[k - start] += gain * samples[k - at];
    }
    for (let i = 0; i < out.length; i++) out[i] = Math.max(-1, Math.min(1, out[i]));
    write(out);
    onProgress?.((start + out.length) / rate, total / rate);
  }
  return events.map((e) => ({ start: e.at / rate, end: (e.at + e.samples.length) / rate, label: UNKNOWN }));
}

function drawLayers(rng: Rng, noises: Float32Array[]): Layer[] {
  const quiet = rng() < 1 / 8;
  const count = rng() < 1 / 4 ? 2 : 1;
  return Array.from({ length: count }, () => {
    const noise = noises[Math.floor(rng() * noises.length)];
    return { noise, at: Math.floor(rng() * noise.length), gain: quiet ? QUIET_GAIN : uniform(rng, GAIN) };
  });
}
