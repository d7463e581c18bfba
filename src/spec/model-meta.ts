import type { FeatureParams } from '../features/params.js';
import type { StreamRule } from './stream-rule.js';
import type { NetworkConfig } from './network-config.js';

/** 12 classes as TFDS `speech_commands`, or all 35 words of the archive. */
export type ClassSet = 'tfds12' | 'all';

/** How a dataset's clips were dealt into splits: the official lists, or the speaker hash (with its salt). */
export interface DataSplitRecord {
  method: 'lists' | 'hash';
  salt?: string;
  validationPercent: number;
  testPercent: number;
}

/** What a model records of the data it was trained on (bee.json's and a .bee header's `data`). */
export interface DatasetRecord {
  root: string;
  split: DataSplitRecord;
  classSet: ClassSet;
  /** bee train --hard-negatives: a folder of `_unknown_` windows added to the train split */
  hardNegatives?: string;
}

/** A model's bee.json (and a .bee file's header): what it is, how it hears, what it was trained on. */
export interface ModelMeta {
  format: 'bee-model';
  formatVersion: number;
  beeVersion: string;
  labels: string[];
  features: FeatureParams;
  network: NetworkConfig;
  /** What the model was trained on, so evaluation and --resume default to the same data and split. */
  data?: DatasetRecord;
  training?: Record<string, unknown>;
  /** Softmax temperature per exit, fitted on the validation split by `bee sweep --calibrate`. */
  calibration?: { temperatures: number[]; split: string; date: string };
  /** How it listens to streams, chosen by `bee listen --calibrate` on the validation split. */
  stream?: StreamRule;
  versions: Record<string, string>;
}
