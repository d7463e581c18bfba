import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { featureKey, frameCount, type FeatureParams } from '../features/params.js';
import { featurizeClips } from '../features/pool.js';
import type { Clip, Dataset } from './dataset.js';
import { writeFileAtomic } from '../util/atomic.js';
import { BeeError } from '../errors.js';
import { makeDir } from '../util/make-dir.js';
import { readRegularFile } from '../util/read-file.js';
import { MAX_WAV_BYTES } from '../audio/wav.js';

/** Features of a dataset's clips, row-major: clip, frame, mel bin. */
export interface FeatureTable {
  params: FeatureParams;
  frames: number;
  melBins: number;
  /** The clips that have features, in dataset order. */
  clips: Clip[];
  features: Float32Array;
  /** Clips that could not be decoded: skipped, counted, reported. */
  failed: { file: string; reason: string }[];
  /** `rebuilt`: why an existing cache was not trusted; `notSaved`: why the cache could not be written (the features are still returned). */
  stats: { reused: number; computed: number; seconds: number; cacheDir: string; rebuilt?: string; notSaved?: string };
}

export interface CacheOptions {
  params: FeatureParams;
  /** Default: $BEE_CACHE_DIR, else $XDG_CACHE_HOME/bee, else ~/.cache/bee. */
  cacheDir?: string;
  workers?: number;
  /** Trust a cached row only if the file's content hash matches too, not just its size and mtime. */
  verify?: boolean;
  onProgress?: (done: number, total: number) => void;
}

interface IndexEntry {
  size: number;
  mtimeMs: number;
  /** SHA-1 of the file's bytes, recorded when a run verified it */
  sha1?: string;
  /** row in features.f32, or the reason the clip could not be decoded */
  row?: number;
  error?: string;
}

interface CacheIndex {
  format: number;
  featureKey: string;
  root: string;
  featureSize: number;
  rows: number;
  sha1: string;
  entries: Record<string, IndexEntry>;
}

const FORMAT = 1;

export function defaultCacheDir(): string {
  if (process.env.BEE_CACHE_DIR) return process.env.BEE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'bee');
}

const clipKey = (root: string, clip: Clip) => {
  const relative = path.relative(root, clip.file).split(path.sep).join('/');
  return clip.window ? `${relative}#${clip.window.start}+${clip.window.length}` : relative;
};

const sha1 = (bytes: Uint8Array) => createHash('sha1').update(bytes).digest('hex');

/** A file's SHA-1, or undefined where it cannot be read (the featurizer then says why). */
function fileHash(file: string): string | undefined {
  try {
    return sha1(readRegularFile(file, MAX_WAV_BYTES));
  } catch {
    return undefined;
  }
}

/** Reads a cache; returns undefined when absent, or the reason it cannot be trusted. */
function readCache(dir: string, key: string, featureSize: number): { index: CacheIndex; features: Float32Array } | string | undefined {
  const indexFile = path.join(dir, 'index.json');
  if (!fs.existsSync(indexFile)) return undefined;
  try {
    const index = JSON.parse(fs.readFileSync(indexFile, 'utf8')) as CacheIndex;
    if (index.format !== FORMAT || index.featureKey !== key || index.featureSize !== featureSize) return 'written by another version';
    const bytes = fs.readFileSync(path.join(dir, 'features.f32'));
    if (bytes.length !== index.rows * featureSize * 4) return 'features file has the wrong size';
    if (sha1(bytes) !== index.sha1) return 'features file fails its checksum';
    return { index, features: new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4) };
  } catch (err) {
    return `unreadable (${(err as Error).message})`;
  }
}

/**
 * Features for every clip of a dataset, computed once on all cores and kept on disk (float32 rows
 * plus an index keyed by file, size, mtime and feature parameters). Changed files are recomputed;
 * a cache that fails its checks is rebuilt, never used. By default a file of the same size and
 * mtime is trusted to be the same; with `verify`, only one of the same content (read and hashed).
 */
export async function loadFeatures(dataset: Dataset, options: CacheOptions): Promise<FeatureTable> {
  const started = performance.now();
  const { params } = options;
  const frames = frameCount(params);
  const featureSize = frames * params.melBins;
  const key = featureKey(params);
  const dir = path.join(options.cacheDir ?? defaultCacheDir(), createHash('sha1').update(`${dataset.root}\0${key}`).digest('hex').slice(0, 16));

  const cached = readCache(dir, key, featureSize);
  const old = typeof cached === 'object' ? cached : undefined;
  const rebuilt = typeof cached === 'string' ? cached : undefined;

  // a verified file whose mtime changed: its new mtime is saved, so that a later run without verify trusts it
  let touched = false;
  const entries: Record<string, IndexEntry> = {};
  const todo: number[] = [];
  const keys = dataset.clips.map((clip, i) => {
    const k = clipKey(dataset.root, clip);
    const stat = fs.statSync(clip.file, { throwIfNoEntry: false });
    const entry: IndexEntry = { size: stat?.size ?? -1, mtimeMs: stat?.mtimeMs ?? -1 };
    if (options.verify) entry.sha1 = fileHash(clip.file);
    const prev = old?.index.entries[k];
    const same = prev && prev.size === entry.size && (options.verify ? entry.sha1 !== undefined && prev.sha1 === entry.sha1 : prev.mtimeMs === entry.mtimeMs);
    if (same) {
      if (prev.mtimeMs !== entry.mtimeMs) touched = true;
      Object.assign(entry, prev, { mtimeMs: entry.mtimeMs });
    } else todo.push(i);
    entries[k] = entry;
    return k;
  });

  const computed = await featurizeClips(
    todo.map((i) => dataset.clips[i]),
    params,
    { workers: options.workers, onProgress: (done) => options.onProgress?.(dataset.clips.length - todo.length + done, dataset.clips.length) },
  );

  // Assemble the table in dataset order: reused rows from the old cache, new rows from the workers.
  const fresh = new Map(todo.map((clipIndex, j) => [clipIndex, j]));
  const clips: Clip[] = [];
  const failed: FeatureTable['failed'] = [];
  const rows: Float32Array[] = [];
  dataset.clips.forEach((clip, i) => {
    const entry = entries[keys[i]];
    const j = fresh.get(i);
    if (j !== undefined) {
      const error = computed.errors.get(j);
      delete entry.row;
      delete entry.error;
      if (error !== undefined) entry.error = error;
      else rows.push(computed.data.subarray(j * featureSize, (j + 1) * featureSize));
    } else if (entry.error === undefined) {
      rows.push(old!.features.subarray(entry.row! * featureSize, (entry.row! + 1) * featureSize));
    }
    if (entry.error !== undefined) failed.push({ file: clip.file, reason: entry.error });
    else {
      entry.row = clips.length;
      clips.push(clip);
    }
  });
  const features = new Float32Array(clips.length * featureSize);
  for (const [r, row] of rows.entries()) features.set(row, r * featureSize);

  const unchanged = old && !touched && todo.length === 0 && old.index.rows === clips.length && Object.keys(old.index.entries).length === keys.length;
  let notSaved: string | undefined;
  if (!unchanged) {
    const bytes = new Uint8Array(features.buffer);
    const index: CacheIndex = { format: FORMAT, featureKey: key, root: dataset.root, featureSize, rows: clips.length, sha1: sha1(bytes), entries };
    try {
      makeDir(dir, 'feature cache');
      // Features first, then the index that vouches for them: a crash in between fails the checksum.
      writeFileAtomic(path.join(dir, 'features.f32'), bytes);
      writeFileAtomic(path.join(dir, 'index.json'), JSON.stringify(index));
    } catch (err) {
      // The cache only saves time: a read-only or full disk must not stop the work.
      if (err instanceof BeeError) notSaved = err.reason;
      else if ((err as NodeJS.ErrnoException).code) notSaved = `${(err as NodeJS.ErrnoException).code} writing ${dir}`;
      else throw err;
    }
  }
  return {
    params,
    frames,
    melBins: params.melBins,
    clips,
    features,
    failed,
    stats: {
      reused: dataset.clips.length - todo.length,
      computed: todo.length,
      seconds: (performance.now() - started) / 1000,
      cacheDir: dir,
      ...(rebuilt ? { rebuilt } : {}),
      ...(notSaved ? { notSaved } : {}),
    },
  };
}
