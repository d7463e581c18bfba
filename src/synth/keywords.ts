import fs from 'node:fs';
import path from 'node:path';
import { encodeWav } from '../audio/wav.js';
import { DEFAULT_SPLIT } from '../data/split.js';
import { BeeError } from '../errors.js';
import { rngFor, type Rng } from '../util/rng.js';
import { BEE_VERSION } from '../version.js';
import { rms } from '../audio/level.js';
import { makeNoise, NOISE_KINDS, scaleToRms } from './noise.js';
import { makeSpeakers, speak, type Speaker } from './voices.js';
import { FLITE_VOICES } from '../audio/tts.js';
import { makeDir } from '../util/make-dir.js';

export const COMMAND_WORDS = ['yes', 'no', 'up', 'down', 'left', 'right', 'on', 'off', 'stop', 'go'];
/** The other words of Speech Commands, for `_unknown_`. */
export const UNKNOWN_WORDS = [
  'backward',
  'bed',
  'bird',
  'cat',
  'dog',
  'eight',
  'five',
  'follow',
  'forward',
  'four',
  'happy',
  'house',
  'learn',
  'marvin',
  'nine',
  'one',
  'seven',
  'sheila',
  'six',
  'three',
  'tree',
  'two',
  'visual',
  'wow',
  'zero',
];

export interface SynthOptions {
  seed: number;
  speakers: number;
  /** takes of each command word per speaker; as many `_unknown_` and `_silence_` clips */
  takes: number;
}

export const DEFAULT_SYNTH: SynthOptions = { seed: 1, speakers: 40, takes: 2 };

/** synth.json: how a synthesized dataset was made; a dataset made with the same options is reused. */
export interface SynthManifest extends SynthOptions {
  format: 'bee-synth';
  formatVersion: number;
  beeVersion: string;
  clips: number;
  perClass: Record<string, number>;
  speakerVoices: Record<string, string>;
}

const SAMPLE_RATE = 16000;
const MANIFEST = 'synth.json';
// Bumped whenever the same options would give other bytes, so that a kept dataset is made anew.
const FORMAT_VERSION = 2;

/** Mixes a word (or nothing) into a second of noise: random place, loudness and signal-to-noise ratio. */
function composeClip(speech: Float32Array | null, babble: Float32Array[], rng: Rng): Float32Array {
  const clip = new Float32Array(SAMPLE_RATE);
  let speechRms = 0;
  if (speech) {
    const word = speech.length > SAMPLE_RATE ? speech.subarray((speech.length - SAMPLE_RATE) >> 1, ((speech.length - SAMPLE_RATE) >> 1) + SAMPLE_RATE) : speech;
    const at = Math.floor(rng() * (SAMPLE_RATE - word.length + 1));
    const gain = 10 ** ((-16 + 10 * rng()) / 20); // peak -16 to -6 dBFS
    for (let i = 0; i < word.length; i++) clip[at + i] = gain * word[i];
    speechRms = gain * rms(word);
  }
  // Noise: a coloured noise, or (under words only: silence has none) babble, other words in other voices.
  const kind = Math.floor(rng() * (NOISE_KINDS.length + (speech ? 1 : 0)));
  const noise = kind < NOISE_KINDS.length ? makeNoise(NOISE_KINDS[kind], SAMPLE_RATE, SAMPLE_RATE, rng) : babbleNoise(babble, rng);
  // Words: 12 to 37 dB above the noise (lower, and a binary network learns too slowly for a demo);
  // silence: noise alone, quiet (-70 to -35 dBFS): the easy class an early exit should catch.
  const level = speech ? speechRms * 10 ** (-(12 + 25 * rng()) / 20) : 10 ** ((-70 + 35 * rng()) / 20);
  scaleToRms(noise, level);
  for (let i = 0; i < SAMPLE_RATE; i++) clip[i] = Math.max(-1, Math.min(1, clip[i] + noise[i]));
  return clip;
}

function babbleNoise(babble: Float32Array[], rng: Rng): Float32Array {
  const out = scaleToRms(makeNoise('white', SAMPLE_RATE, SAMPLE_RATE, rng), 0.05);
  for (let k = 0; k < 3; k++) {
    const word = babble[Math.floor(rng() * babble.length)];
    const at = Math.floor(rng() * SAMPLE_RATE) - (word.length >> 1);
    const gain = 0.5 + rng();
    for (let i = Math.max(0, -at); i < word.length && at + i < SAMPLE_RATE; i++) out[at + i] += gain * word[i];
  }
  return scaleToRms(out, 1);
}

/** The manifest of a synthesized dataset at `dir`, if there is a readable one. */
export function readSynthManifest(dir: string): SynthManifest | undefined {
  try {
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), 'utf8'));
    return manifest.format === 'bee-synth' ? manifest : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `dir` holds a dataset synthesized with these options by this format version. */
export function isSynthesized(dir: string, options: SynthOptions): boolean {
  const m = readSynthManifest(dir);
  return !!m && m.formatVersion === FORMAT_VERSION && m.seed === options.seed && m.speakers === options.speakers && m.takes === options.takes;
}

const MIN_SPEAKERS = 3;

/** A file-system failure as a one-line error naming the place. */
function fileError(err: unknown, file: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (!code || err instanceof BeeError) return err;
  const hint =
    code === 'ENOSPC'
      ? 'the disk is full'
      : code === 'ENOTDIR' || code === 'EEXIST'
        ? 'a file stands where a directory should be'
        : 'check that the place is writable';
  return new BeeError(`cannot write: ${code}`, { file, hint });
}

/**
 * Synthesizes a keyword dataset in the layout of the Speech Commands test set: a folder per class;
 * the 10 command words spoken by `speakers` synthetic speakers (`<speaker>_nohash_<take>.wav`),
 * `_unknown_` from 25 other words (`<word>_<speaker>_nohash_<take>.wav`), `_silence_` from noise
 * alone. Voice, pitch, rate, vocal tract, timing, loudness and noise (coloured, hum, babble) vary,
 * so that some clips are easy and some hard. Deterministic for a seed. Written under a temporary
 * name and renamed into place, so a failed or interrupted run leaves no half dataset (and the next
 * run clears what an interrupted one left). `out` must not exist, unless `replace` is set and it
 * holds a synthesized dataset, which is swapped for the new one only once that is complete.
 */
export function synthesizeKeywords(out: string, options: SynthOptions, onProgress?: (done: number, total: number) => void, replace = false): SynthManifest {
  const { seed, speakers: count, takes } = options;
  if (!(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32)) throw new BeeError(`the seed must be a whole number in 0..${2 ** 32 - 1}, got ${seed}`);
  if (!(Number.isInteger(count) && count >= MIN_SPEAKERS && count <= 10000))
    throw new BeeError(`speakers must be a whole number in ${MIN_SPEAKERS}..10000 (one for each split at least), got ${count}`);
  if (!(Number.isInteger(takes) && takes >= 1 && takes <= 100)) throw new BeeError(`takes must be a whole number in 1..100, got ${takes}`);
  if (fs.existsSync(out)) {
    if (!replace) throw new BeeError('already exists', { file: out, hint: 'pick another --out, or pass --force to make it again' });
    if (!readSynthManifest(out)) throw new BeeError('exists and is not a dataset bee synthesized: not replacing it', { file: out, hint: 'pick another --out' });
  }
  const speakers = makeSpeakers(count, seed, DEFAULT_SPLIT);
  const classes = [...COMMAND_WORDS, '_unknown_', '_silence_'];
  const total = count * classes.length * takes;
  const full = path.resolve(out);
  const tmp = path.join(path.dirname(full), `.${path.basename(full)}.tmp`);
  try {
    fs.rmSync(tmp, { recursive: true, force: true });
    for (const c of classes) makeDir(path.join(tmp, c), 'dataset directory');
    // Babble: words of voices that are not the dataset's speakers, drawn once, mixed into word clips as noise.
    const babbleRng = rngFor(seed, 1);
    const babblers = makeSpeakers(FLITE_VOICES.length, seed + 1, DEFAULT_SPLIT);
    const babble = Array.from({ length: 24 }, (_, k) => speak(UNKNOWN_WORDS[k % UNKNOWN_WORDS.length], babblers[k % babblers.length], babbleRng, SAMPLE_RATE));
    const perClass: Record<string, number> = Object.fromEntries(classes.map((c) => [c, 0]));
    let done = 0;
    speakers.forEach((speaker: Speaker, s) => {
      classes.forEach((cls, c) => {
        for (let take = 0; take < takes; take++) {
          const rng = rngFor(seed, 2, s, c, take);
          const word = cls === '_unknown_' ? UNKNOWN_WORDS[Math.floor(rng() * UNKNOWN_WORDS.length)] : cls === '_silence_' ? null : cls;
          const clip = composeClip(word ? speak(word, speaker, rng, SAMPLE_RATE) : null, babble, rng);
          const name = cls === '_unknown_' ? `${word}_${speaker.id}_nohash_${take}.wav` : `${speaker.id}_nohash_${take}.wav`;
          fs.writeFileSync(path.join(tmp, cls, name), encodeWav({ sampleRate: SAMPLE_RATE, channels: [clip], bits: 16 }));
          perClass[cls]++;
          onProgress?.(++done, total);
        }
      });
    });
    const manifest: SynthManifest = {
      format: 'bee-synth',
      formatVersion: FORMAT_VERSION,
      beeVersion: BEE_VERSION,
      ...options,
      clips: total,
      perClass,
      speakerVoices: Object.fromEntries(
        speakers.map((s) => [
          s.id,
          `${s.voice}, pitch ${s.voice === 'rms' ? 'its own' : `${Math.round(s.pitchHz * s.tract)} Hz`}, rate ${s.rate.toFixed(2)}, tract ${s.tract.toFixed(3)}`,
        ]),
      ),
    };
    fs.writeFileSync(path.join(tmp, MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
    if (fs.existsSync(out)) {
      const old = `${tmp}-old`;
      fs.rmSync(old, { recursive: true, force: true });
      fs.renameSync(out, old);
      fs.renameSync(tmp, out);
      fs.rmSync(old, { recursive: true, force: true });
    } else fs.renameSync(tmp, out);
    return manifest;
  } catch (err) {
    try {
      fs.rmSync(tmp, { recursive: true, force: true });
    } catch {
      // nothing was made there
    }
    throw fileError(err, out);
  }
}
