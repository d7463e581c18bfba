import path from 'node:path';
import { probeWavFile, type WavInfo } from '../audio/wav.js';
import { BeeError } from '../errors.js';
import { sharedSpeakers, type Dataset } from './dataset.js';
import { SPLITS, type SplitName } from './split.js';

export interface DatasetSummary {
  root: string;
  layout: Dataset['layout'];
  classes: string[];
  clips: number;
  speakers: number;
  split: Dataset['split'];
  splits: Record<SplitName, { clips: number; speakers: number }>;
  perClass: Record<string, Record<SplitName | 'total', number>>;
  durations: { min: number; max: number; mean: number; shorterThanClip: number; longerThanClip: number };
  sampleRates: Record<string, number>;
  noiseFiles: number;
  skipped: { file: string; reason: string }[];
  sharedSpeakers: number;
  warnings: string[];
}

/**
 * Counts a dataset's clips, speakers and durations per split and class, validating every file's
 * header on the way: files that cannot be read are listed as skipped, never fatal.
 */
export function summarizeDataset(dataset: Dataset, clipSeconds: number, onProgress?: (done: number) => void): DatasetSummary {
  const relative = (file: string) => path.relative(dataset.root, file);
  const skipped: DatasetSummary['skipped'] = dataset.skipped.map(({ file, reason }) => ({ file: relative(file), reason }));
  const sampleRates: Record<string, number> = {};
  const durations: number[] = [];
  const probed = new Map<string, WavInfo | null>();
  const good = dataset.clips.filter((clip, i) => {
    let info = probed.get(clip.file);
    if (info === undefined) {
      try {
        info = probeWavFile(clip.file);
      } catch (err) {
        if (!(err instanceof BeeError)) throw err;
        skipped.push({ file: relative(clip.file), reason: err.reason });
        info = null;
      }
      probed.set(clip.file, info);
    }
    onProgress?.(i + 1);
    if (!info) return false;
    sampleRates[info.sampleRate] = (sampleRates[info.sampleRate] ?? 0) + 1;
    durations.push(clip.window ? clip.window.length / info.sampleRate : info.seconds);
    return true;
  });

  const splits = Object.fromEntries(
    SPLITS.map((s) => {
      const inSplit = good.filter((c) => c.split === s);
      return [s, { clips: inSplit.length, speakers: new Set(inSplit.map((c) => c.speaker)).size }];
    }),
  ) as DatasetSummary['splits'];
  const perClass: DatasetSummary['perClass'] = {};
  for (const label of dataset.classes) perClass[label] = { train: 0, validation: 0, test: 0, total: 0 };
  for (const c of good) {
    perClass[c.label][c.split]++;
    perClass[c.label].total++;
  }
  const warnings = SPLITS.filter((s) => splits[s].clips === 0).map(
    (s) =>
      `the ${s} split is empty (validation ${dataset.split.validationPercent}%, test ${dataset.split.testPercent}%${dataset.split.salt === undefined && dataset.split.method === 'hash' ? '; all speakers may share a hash bucket: try --split-salt' : ''})`,
  );
  const tolerance = 1e-9;
  return {
    root: dataset.root,
    layout: dataset.layout,
    classes: dataset.classes,
    clips: good.length,
    speakers: new Set(good.map((c) => c.speaker)).size,
    split: dataset.split,
    splits,
    perClass,
    durations: {
      min: durations.length ? durations.reduce((a, b) => Math.min(a, b)) : 0,
      max: durations.length ? durations.reduce((a, b) => Math.max(a, b)) : 0,
      mean: durations.length ? durations.reduce((a, b) => a + b, 0) / durations.length : 0,
      shorterThanClip: durations.filter((d) => d < clipSeconds - tolerance).length,
      longerThanClip: durations.filter((d) => d > clipSeconds + tolerance).length,
    },
    sampleRates,
    noiseFiles: dataset.noiseFiles.length,
    skipped,
    sharedSpeakers: sharedSpeakers(good).length,
    warnings,
  };
}
