import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { encodeWav } from '../audio/wav.js';
import { findWavs, NOISE_DIR } from '../data/dataset.js';
import { defaultCacheDir } from '../data/feature-cache.js';
import { BeeError } from '../errors.js';
import { ClipFeaturizer } from '../features/featurize.js';
import type { FeatureParams } from '../features/params.js';
import { SILENCE, UNKNOWN } from '../spec/labels.js';
import { rngFor } from '../util/rng.js';
import { type ExampleSources, synthesizedNoise, synthesizedUnknown } from './folder-examples.js';

// Negatives on disk, for training a whole network on a user's few words (bee train --from
// --freeze none): the trainer reads a folder dataset, so the _silence_ and _unknown_ examples that
// --freeze body makes in memory (examples.ts) are written as WAV files beside the words.

const writeClip = (file: string, samples: Float32Array, sampleRate: number) => fs.writeFileSync(file, encodeWav({ sampleRate, channels: [samples], bits: 16 }));

/**
 * Writes `count` clips of `_silence_` (1 s of a background recording at a random offset and a gain
 * of -40 to +6 dB) and of `_unknown_` (other speech, drawn at random) into `dir`, seeded.
 */
export function writeNegatives(dir: string, o: { noise: Float32Array[]; unknown: Float32Array[]; count: number; params: FeatureParams; seed: number }): void {
  const { clipSamples, sampleRate } = o.params;
  const rng = rngFor(o.seed, 1);
  for (const label of [SILENCE, UNKNOWN]) fs.mkdirSync(path.join(dir, label), { recursive: true });
  const long = o.noise.filter((n) => n.length > clipSamples);
  if (!long.length) throw new BeeError('no background recording is longer than a clip', { file: dir, hint: 'record a few seconds of the room' });
  for (let i = 0; i < o.count; i++) {
    const n = long[Math.floor(rng() * long.length)];
    const at = Math.floor(rng() * (n.length - clipSamples));
    const gain = 10 ** ((-40 + 46 * rng()) / 20);
    writeClip(
      path.join(dir, SILENCE, `${i}.wav`),
      n.slice(at, at + clipSamples).map((x) => x * gain),
      sampleRate,
    );
    writeClip(path.join(dir, UNKNOWN, `${i}.wav`), o.unknown[Math.floor(rng() * o.unknown.length)], sampleRate);
  }
}

/**
 * The folder of a user's words as a dataset with negatives: `dir` itself where it holds
 * `_silence_` and `_unknown_`, else a copy in bee's cache (the words' files linked, not copied)
 * with the ones it lacks written as `bee train --from --freeze body` makes them: _silence_ from its
 * `_background_noise_`, else `noiseDir`, else synthesized noise; _unknown_: other words in
 * synthetic voices; as many of each as a word has clips (at least 3). Without background noise of
 * its own, the copy gets `noiseDir`'s recordings (or the synthesized noise) for augmentation.
 * Built once per folder content and seed: the same folder gives the same dataset.
 */
export function folderWithNegatives(
  dir: string,
  params: FeatureParams,
  o: { noiseDir?: string; cacheDir?: string; seed: number },
): { root: string; sources: ExampleSources } {
  const root = path.resolve(dir);
  const folders = fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  const has = (name: string) => folders.includes(name);
  if (has(SILENCE) && has(UNKNOWN)) return { root, sources: { noise: 'folder', unknown: 'folder' } };
  const words = folders.filter((f) => ![NOISE_DIR, SILENCE, UNKNOWN].includes(f));
  const files = new Map(folders.map((f) => [f, findWavs(path.join(root, f))]));
  if (!words.some((w) => files.get(w)!.length))
    throw new BeeError('no word folders with WAV files', { file: root, hint: 'one sub-folder of WAV files per new word, e.g. DIR/hello/1.wav' });
  const noiseFiles = has(NOISE_DIR) ? files.get(NOISE_DIR)! : o.noiseDir ? findWavs(path.resolve(o.noiseDir)) : [];
  const sources: ExampleSources = {
    noise: has(SILENCE) || has(NOISE_DIR) ? 'folder' : noiseFiles.length ? 'noise-dir' : 'synthesized',
    unknown: has(UNKNOWN) ? 'folder' : 'synthesized',
  };
  const listing = [...files].flatMap(([f, list]) => list.map((file) => `${f}\t${file}\t${fs.statSync(file).size}\t${fs.statSync(file).mtimeMs}`));
  const key = createHash('sha256')
    .update(JSON.stringify({ root, listing, noiseFiles, seed: o.seed, sampleRate: params.sampleRate }))
    .digest('hex')
    .slice(0, 16);
  const staged = path.join(o.cacheDir ?? defaultCacheDir(), 'transfer-data', key);
  if (fs.existsSync(path.join(staged, '.complete'))) return { root: staged, sources };

  const building = `${staged}.${process.pid}.tmp`;
  fs.rmSync(building, { recursive: true, force: true });
  for (const f of folders) {
    fs.mkdirSync(path.join(building, f), { recursive: true });
    // the files' own names, which the split hashes (a name found twice in sub-folders gets a number)
    const taken = new Set<string>();
    for (const [i, file] of files.get(f)!.entries()) {
      const name = taken.has(path.basename(file)) ? `${i}-${path.basename(file)}` : path.basename(file);
      taken.add(name);
      fs.symlinkSync(file, path.join(building, f, name));
    }
  }
  const featurizer = new ClipFeaturizer(params);
  const perWord = Math.max(3, Math.round(words.reduce((n, w) => n + files.get(w)!.length, 0) / words.length));
  const recordings = noiseFiles.map((f) => featurizer.recording(f)).filter((r) => r.length > params.clipSamples);
  const noise = recordings.length ? recordings : synthesizedNoise(params.sampleRate);
  if (!has(NOISE_DIR)) {
    fs.mkdirSync(path.join(building, NOISE_DIR));
    if (noiseFiles.length) for (const f of noiseFiles) fs.symlinkSync(f, path.join(building, NOISE_DIR, path.basename(f)));
    else for (const [i, n] of noise.entries()) writeClip(path.join(building, NOISE_DIR, `synthesized-${i}.wav`), n, params.sampleRate);
  }
  const scratch = path.join(building, '.negatives');
  writeNegatives(scratch, { noise, unknown: synthesizedUnknown(words, params.sampleRate, o.cacheDir), count: perWord, params, seed: o.seed });
  for (const label of [SILENCE, UNKNOWN]) if (!has(label)) fs.renameSync(path.join(scratch, label), path.join(building, label));
  fs.rmSync(scratch, { recursive: true, force: true });
  fs.writeFileSync(path.join(building, '.complete'), '');
  fs.rmSync(staged, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(staged), { recursive: true });
  fs.renameSync(building, staged);
  return { root: staged, sources };
}
