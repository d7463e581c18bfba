import fs from 'node:fs';
import path from 'node:path';
import { probeWavFile, type WavInfo } from '../audio/wav.js';
import { BeeError } from '../errors.js';
import { SILENCE, UNKNOWN } from '../spec/labels.js';
import type { ClassSet, DataSplitRecord, DatasetRecord } from '../spec/model-meta.js';
import { describeError } from '../util/read-file.js';
import { checkSplitOptions, DEFAULT_SPLIT, speakerOf, splitOf, type SplitName, type SplitOptions } from './split.js';

/** One example: a whole file, or a window of one (silence cut from background noise). */
export interface Clip {
  /** Absolute path. */
  file: string;
  label: string;
  speaker: string;
  split: SplitName;
  /** A window of the file, in samples at the file's own rate. */
  window?: { start: number; length: number };
}

export type Layout = 'folders' | 'speech-commands';

export interface Dataset {
  root: string;
  layout: Layout;
  /** How an archive's words map to classes (folder layouts: one class per folder). */
  classSet: ClassSet;
  classes: string[];
  clips: Clip[];
  /** Background-noise recordings found in the dataset (augmentation, silence windows). */
  noiseFiles: string[];
  /** Files passed over while scanning (an unreadable noise recording), with the reason. */
  skipped: { file: string; reason: string }[];
  split: DataSplitRecord;
  /** LoadOptions.hardNegatives, absolute */
  hardNegatives?: string;
}

export interface LoadOptions {
  split?: Partial<SplitOptions>;
  classSet?: ClassSet;
  /** Force hashing by speaker even where official lists exist (implied by a salt). */
  hashSplit?: boolean;
  /** A folder of 1 s WAVs that are no keyword (bee data mine's): more `_unknown_` examples of the train split. */
  hardNegatives?: string;
}

export { SILENCE, UNKNOWN } from '../spec/labels.js';
export type { ClassSet, DatasetRecord } from '../spec/model-meta.js';
export const NOISE_DIR = '_background_noise_';
export const TFDS_WORDS = ['down', 'go', 'left', 'no', 'off', 'on', 'right', 'stop', 'up', 'yes'] as const;
const SILENCE_WINDOW_SECONDS = 1;
/** the speaker of every hard negative: they come from training-split streams */
const HARD_NEGATIVE_SPEAKER = 'hard-negative';

const isWav = (name: string) => /\.wav$/i.test(name);

/** .wav files below dir, recursively, sorted, absolute. */
export function findWavs(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (err) {
      throw new BeeError(`cannot read the folder: ${describeError(err)}`, { file: d, hint: 'pass a folder of WAV files' });
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      // a linked file counts (a dataset assembled from links); a linked folder is not followed (it may loop)
      else if (isWav(entry.name) && (entry.isFile() || (entry.isSymbolicLink() && fs.statSync(full, { throwIfNoEntry: false })?.isFile()))) out.push(full);
    }
  };
  walk(dir);
  return out;
}

function subdirs(root: string): string[] {
  return fs
    .readdirSync(root, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
}

function readList(file: string): Set<string> {
  return new Set(
    fs
      .readFileSync(file, 'utf8')
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter(Boolean),
  );
}

/** 1 s windows of each noise recording, as `_silence_` clips; each window is its own "speaker". */
function silenceWindows(noiseFiles: string[], assign: (speaker: string) => SplitName, skipped: Dataset['skipped']): Clip[] {
  const clips: Clip[] = [];
  for (const file of noiseFiles) {
    let info: WavInfo;
    try {
      info = probeWavFile(file);
    } catch (err) {
      if (!(err instanceof BeeError)) throw err;
      skipped.push({ file, reason: err.reason });
      continue;
    }
    const { frames, sampleRate } = info;
    const length = Math.round(sampleRate * SILENCE_WINDOW_SECONDS);
    const name = path.basename(file).replace(/\.wav$/i, '');
    for (let w = 0; (w + 1) * length <= frames; w++) {
      const speaker = `${name}-${w}`;
      clips.push({ file, label: SILENCE, speaker, split: assign(speaker), window: { start: w * length, length } });
    }
  }
  return clips;
}

/**
 * Scans a dataset directory. Two layouts:
 * - `speech-commands`: the official archive (word folders, `_background_noise_`,
 *   `validation_list.txt`, `testing_list.txt`), mapped to TFDS's 12 classes or all words;
 * - `folders`: one folder per class, `.wav` files found recursively at any sample rate.
 * Splits come from the official lists where they exist, else from the speaker hash.
 */
export function loadDataset(root: string, options: LoadOptions = {}): Dataset {
  const abs = path.resolve(root);
  if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) {
    throw new BeeError('no such dataset directory', { file: root, hint: 'pass --data DIR with one folder per class' });
  }
  const splitOptions: SplitOptions = { ...DEFAULT_SPLIT, ...options.split };
  checkSplitOptions(splitOptions);
  const hashOf = (speaker: string) => splitOf(speaker, splitOptions);
  const noiseDir = path.join(abs, NOISE_DIR);
  const noiseFiles = fs.existsSync(noiseDir) ? findWavs(noiseDir) : [];
  const listFiles = ['validation_list.txt', 'testing_list.txt'].map((f) => path.join(abs, f));
  const isArchive = listFiles.some((f) => fs.existsSync(f));
  const useLists = isArchive && !options.hashSplit && splitOptions.salt === undefined;
  const split = {
    method: useLists ? ('lists' as const) : ('hash' as const),
    ...(splitOptions.salt !== undefined && !useLists ? { salt: splitOptions.salt } : {}),
    validationPercent: splitOptions.validationPercent,
    testPercent: splitOptions.testPercent,
  };

  const folders = subdirs(abs).filter((d) => d !== NOISE_DIR);
  if (folders.length === 0) {
    throw new BeeError('no class folders found', { file: root, hint: 'expected one sub-folder of .wav files per class' });
  }

  let assignFile = (_relative: string, speaker: string) => hashOf(speaker);
  if (useLists) {
    const [validation, test] = listFiles.map((f) => (fs.existsSync(f) ? readList(f) : new Set<string>()));
    assignFile = (relative) => (validation.has(relative) ? 'validation' : test.has(relative) ? 'test' : 'train');
  }

  const classSet = options.classSet ?? 'tfds12';
  const labelOf = (folder: string): string => {
    if (!isArchive || classSet === 'all') return folder;
    return (TFDS_WORDS as readonly string[]).includes(folder) ? folder : UNKNOWN;
  };

  const clips: Clip[] = [];
  for (const folder of folders) {
    for (const file of findWavs(path.join(abs, folder))) {
      const relative = path.relative(abs, file).split(path.sep).join('/');
      const speaker = speakerOf(path.basename(file));
      clips.push({ file, label: labelOf(folder), speaker, split: assignFile(relative, speaker) });
    }
  }
  const skipped: Dataset['skipped'] = [];
  if (isArchive && classSet === 'tfds12') clips.push(...silenceWindows(noiseFiles, hashOf, skipped));
  if (clips.length === 0) throw new BeeError('no .wav files found', { file: root, hint: 'expected one sub-folder of .wav files per class' });

  const classes = [...new Set(clips.map((c) => c.label))].sort();
  const hardNegatives = options.hardNegatives === undefined ? undefined : path.resolve(options.hardNegatives);
  if (hardNegatives) clips.push(...hardNegativeClips(hardNegatives, classes));
  return {
    root: abs,
    layout: isArchive ? 'speech-commands' : 'folders',
    classSet,
    classes,
    clips,
    noiseFiles,
    skipped,
    split,
    ...(hardNegatives ? { hardNegatives } : {}),
  };
}

/** Every WAV of a hard-negatives folder, as an `_unknown_` clip of the train split (mined from training-split streams). */
function hardNegativeClips(dir: string, classes: string[]): Clip[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory())
    throw new BeeError('no such folder of hard negatives', { file: dir, hint: 'pass the folder bee data mine wrote (--out)' });
  if (!classes.includes(UNKNOWN))
    throw new BeeError(`hard negatives are labelled ${UNKNOWN}, and the dataset has no such class`, { file: dir, hint: 'drop --hard-negatives' });
  const files = findWavs(dir);
  if (!files.length) throw new BeeError('holds no WAV files', { file: dir, hint: 'pass the folder bee data mine wrote (--out)' });
  return files.map((file) => ({ file, label: UNKNOWN, speaker: HARD_NEGATIVE_SPEAKER, split: 'train' as const }));
}

/**
 * The dataset a model was trained on, split as it was; with its hard negatives only where asked
 * (resuming the run): they are training examples, and evaluation must not need their folder.
 */
export function loadRecordedDataset(record: DatasetRecord, options: { hardNegatives?: boolean } = {}): Dataset {
  const { root, split, classSet } = record;
  return loadDataset(root, {
    split: { salt: split.salt, validationPercent: split.validationPercent, testPercent: split.testPercent },
    classSet,
    hashSplit: split.method === 'hash',
    ...(options.hardNegatives && record.hardNegatives ? { hardNegatives: record.hardNegatives } : {}),
  });
}

/** Speakers that appear in more than one split (must be none for an honest evaluation). */
export function sharedSpeakers(clips: Clip[]): string[] {
  const seen = new Map<string, SplitName>();
  const shared = new Set<string>();
  for (const c of clips) {
    const prev = seen.get(c.speaker);
    if (prev === undefined) seen.set(c.speaker, c.split);
    else if (prev !== c.split) shared.add(c.speaker);
  }
  return [...shared].sort();
}
