import fs from 'node:fs';
import path from 'node:path';
import { findWavs, NOISE_DIR } from '../data/dataset.js';
import { defaultCacheDir } from '../data/feature-cache.js';
import { DEFAULT_SPLIT } from '../data/split.js';
import { BeeError } from '../errors.js';
import { ClipFeaturizer } from '../features/featurize.js';
import type { FeatureParams } from '../features/params.js';
import { SILENCE, UNKNOWN } from '../spec/labels.js';
import { COMMAND_WORDS, UNKNOWN_WORDS } from '../synth/keywords.js';
import { makeNoise, NOISE_KINDS } from '../synth/noise.js';
import { makeSpeakers, speak } from '../synth/voices.js';
import { writeFileAtomic } from '../util/atomic.js';
import { rngFor } from '../util/rng.js';
import type { FewShotExamples } from './examples.js';
import { wordWindows } from './word-windows.js';

/** Where a folder's negatives came from: its own folders, --noise-dir, or bee's synthesizer. */
export interface ExampleSources {
  noise: 'folder' | 'noise-dir' | 'synthesized';
  unknown: 'folder' | 'synthesized';
}

/** Voices of the synthesized _unknown_ words: a seed no other synthesized set uses. */
const UNKNOWN_VOICES = { speakers: 4, seed: 2_000_003 };

/**
 * The words of Speech Commands (its ten commands and 25 others) that are none of `words`, each
 * spoken by four synthetic voices: the _unknown_ examples of a custom model whose user gave none.
 * Kept in bee's cache (synthesis takes ~0.15 s a word): [count u32][lengths u32...][samples f32...].
 */
export function synthesizedUnknown(words: string[], sampleRate: number, cacheDir = defaultCacheDir()): Float32Array[] {
  const taken = new Set(words.map((w) => w.toLowerCase()));
  const others = [...COMMAND_WORDS, ...UNKNOWN_WORDS].filter((w) => !taken.has(w)).sort();
  const file = path.join(cacheDir, 'synth', `unknown-${UNKNOWN_VOICES.seed}-${UNKNOWN_VOICES.speakers}-${sampleRate}-${others.join('+')}.f32`);
  const cached = readClips(file);
  if (cached) return cached;
  const rng = rngFor(UNKNOWN_VOICES.seed, 1);
  const speakers = makeSpeakers(UNKNOWN_VOICES.speakers, UNKNOWN_VOICES.seed, DEFAULT_SPLIT);
  const clips = speakers.flatMap((speaker) => others.map((w) => speak(w, speaker, rng, sampleRate)));
  const lengths = Uint32Array.from(clips, (c) => c.length);
  const packed = new Float32Array(1 + clips.length + lengths.reduce((a, b) => a + b, 0));
  new Uint32Array(packed.buffer, 0, 1 + clips.length).set([clips.length, ...lengths]);
  let at = 1 + clips.length;
  for (const c of clips) {
    packed.set(c, at);
    at += c.length;
  }
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    writeFileAtomic(file, new Uint8Array(packed.buffer));
  } catch {
    // a read-only cache only costs the synthesis next time
  }
  return clips;
}

/** The clips of a cache file, or undefined where it is absent, unreadable or not whole. */
function readClips(file: string): Float32Array[] | undefined {
  let buffer: ArrayBuffer;
  try {
    buffer = new Uint8Array(fs.readFileSync(file)).buffer; // a copy: aligned for 32-bit reads
  } catch {
    return undefined;
  }
  const words = new Uint32Array(buffer, 0, buffer.byteLength >> 2);
  const count = words[0] ?? 0;
  const lengths = words.subarray(1, 1 + count);
  if (count === 0 || lengths.length !== count || 1 + count + lengths.reduce((a, b) => a + b, 0) !== words.length) return undefined;
  const samples = new Float32Array(buffer);
  const clips: Float32Array[] = [];
  let at = 1 + count;
  for (const n of lengths) {
    clips.push(samples.slice(at, at + n));
    at += n;
  }
  return clips;
}

/** Ten seconds of each kind of synthesized noise: the background of a custom model whose user gave none. */
export function synthesizedNoise(sampleRate: number): Float32Array[] {
  return NOISE_KINDS.map((kind, i) => makeNoise(kind, 10 * sampleRate, sampleRate, rngFor(UNKNOWN_VOICES.seed, 2, i)));
}

/**
 * A folder of a few examples of each new word: one sub-folder of WAV files per word (any sample
 * rate, about 1 s each; a longer one holds the word said several times with pauses, and each is
 * an example), and optionally `_background_noise_` or `_silence_` (recordings of the
 * place, any length) and `_unknown_` (other speech). Negatives the folder lacks come from
 * `noiseDir`, else from bee's synthesizer (noise; other words in synthetic voices).
 */
export function readExampleFolder(
  dir: string,
  params: FeatureParams,
  options: { noiseDir?: string; cacheDir?: string } = {},
): FewShotExamples & { sources: ExampleSources } {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, { withFileTypes: true });
  } catch (err) {
    throw new BeeError(`cannot read the folder: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      file: dir,
      hint: 'pass --data DIR with one folder of WAV files per new word',
    });
  }
  const folders = entries
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const featurizer = new ClipFeaturizer(params);
  const read = (folder: string) => findWavs(path.join(dir, folder)).map((file) => featurizer.recording(file));
  // a recording much longer than a clip is the word said several times, as the page records it
  const takes = (recording: Float32Array) => (recording.length > 1.5 * params.clipSamples ? wordWindows(recording, params.sampleRate) : [recording]);
  const words = new Map<string, Float32Array[]>();
  for (const folder of folders.filter((f) => ![NOISE_DIR, SILENCE, UNKNOWN].includes(f))) {
    const clips = read(folder).flatMap(takes);
    if (clips.length) words.set(folder, clips);
  }
  if (words.size === 0)
    throw new BeeError('no word folders with WAV files', { file: dir, hint: 'one sub-folder of WAV files per new word, e.g. DIR/hello/1.wav' });
  const ownNoise = [NOISE_DIR, SILENCE].filter((f) => folders.includes(f)).flatMap((f) => read(f));
  const ownUnknown = folders.includes(UNKNOWN) ? read(UNKNOWN) : [];
  const givenNoise = !ownNoise.length && options.noiseDir ? findWavs(path.resolve(options.noiseDir)).map((f) => featurizer.recording(f)) : [];
  const noise = ownNoise.length ? ownNoise : givenNoise.length ? givenNoise : synthesizedNoise(params.sampleRate);
  const unknown = ownUnknown.length ? ownUnknown : synthesizedUnknown([...words.keys()], params.sampleRate, options.cacheDir);
  return {
    words,
    noise,
    unknown,
    sources: {
      noise: ownNoise.length ? 'folder' : givenNoise.length ? 'noise-dir' : 'synthesized',
      unknown: ownUnknown.length ? 'folder' : 'synthesized',
    },
  };
}
