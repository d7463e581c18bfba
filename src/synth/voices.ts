import { createHash } from 'node:crypto';
import { resample } from '../audio/resample.js';
import { FLITE_VOICES, say, type FliteVoice } from '../audio/tts.js';
import { splitOf, type SplitName, type SplitOptions } from '../data/split.js';
import { rngFor, shuffle, type Rng } from '../util/rng.js';

/** A synthetic speaker: a flite voice with its own pitch, speaking rate and vocal tract length. */
export interface Speaker {
  /** 8 hex digits, like Speech Commands' speaker ids */
  id: string;
  voice: FliteVoice;
  /** target mean pitch, Hz (rms keeps its own) */
  pitchHz: number;
  rate: number;
  /**
   * Formant and pitch scale, applied by resampling: > 1 sounds like a shorter vocal tract. A
   * multiple of 1/40, so that the resampler's rate ratio stays small.
   */
  tract: number;
}

// Mean pitch of each voice as flite speaks it (kal, kal16, awb and rms are male, slt female).
const VOICE_PITCH: Record<FliteVoice, number> = { kal: 105, kal16: 105, awb: 120, rms: 100, slt: 175 };

/**
 * `count` (>= 3) speakers, the voices in turn, each with its own pitch, rate and vocal tract, all
 * drawn from the seed. Their ids (distinct, 8 hex digits) are chosen so that the speaker split
 * (the official hash rule, with `split`'s salt) puts 70/10/20% of them, rounded but at least one
 * each, in train/validation/test, in an order shuffled by the seed so that voices mix across
 * splits: a small synthetic set still has every split, and no speaker spans two.
 */
export function makeSpeakers(count: number, seed: number, split: SplitOptions): Speaker[] {
  const rng = rngFor(seed, 0);
  const validation = Math.max(1, Math.round((count * split.validationPercent) / 100));
  const test = Math.max(1, Math.round((count * split.testPercent) / 100));
  const wanted = shuffle(
    Array.from({ length: count }, (_, s): SplitName => (s < validation ? 'validation' : s < validation + test ? 'test' : 'train')),
    rngFor(seed, 3),
  );
  const used = new Set<string>();
  return wanted.map((want, s) => {
    let id = '';
    for (let attempt = 0; !id || used.has(id) || splitOf(id, split) !== want; attempt++)
      id = createHash('sha1').update(`bee-synth:${seed}:${s}:${attempt}`).digest('hex').slice(0, 8);
    used.add(id);
    const voice = FLITE_VOICES[s % FLITE_VOICES.length];
    return {
      id,
      voice,
      pitchHz: Math.round(VOICE_PITCH[voice] * (0.8 + 0.45 * rng())),
      rate: 0.85 + 0.35 * rng(),
      tract: Math.round(40 * (0.9 + 0.2 * rng())) / 40,
    };
  });
}

/** Drops leading and trailing silence: keeps from 20 ms before the first to 20 ms after the last sample above 2% of the peak. */
function trim(x: Float32Array, sampleRate: number): Float32Array {
  let peak = 0;
  for (let i = 0; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]));
  const floor = 0.02 * peak;
  let first = 0;
  let last = x.length - 1;
  while (first < last && Math.abs(x[first]) <= floor) first++;
  while (last > first && Math.abs(x[last]) <= floor) last--;
  const margin = Math.round(0.02 * sampleRate);
  return x.slice(Math.max(0, first - margin), Math.min(x.length, last + margin + 1));
}

/**
 * One take of a word by a speaker at `sampleRate`, trimmed, peak 1: the speaker's voice with
 * this take's own small changes of rate and pitch, then the vocal tract scaling.
 */
export function speak(word: string, speaker: Speaker, rng: Rng, sampleRate: number): Float32Array {
  const audio = say(word, { voice: speaker.voice, rate: speaker.rate * (0.92 + 0.16 * rng()), pitchHz: Math.round(speaker.pitchHz * (0.95 + 0.1 * rng())) });
  // Read as if recorded at tract x its rate, then brought to the target rate: every frequency x tract.
  const scaled = resample(audio.samples, Math.round(audio.sampleRate * speaker.tract), sampleRate);
  const x = trim(scaled, sampleRate);
  let peak = 0;
  for (let i = 0; i < x.length; i++) peak = Math.max(peak, Math.abs(x[i]));
  if (peak > 0) for (let i = 0; i < x.length; i++) x[i] /= peak;
  return x;
}
