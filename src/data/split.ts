import { createHash } from 'node:crypto';
import { BeeError } from '../errors.js';

export type SplitName = 'train' | 'validation' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'validation', 'test'];

export interface SplitOptions {
  validationPercent: number;
  testPercent: number;
  /** Prepended to the speaker id before hashing, to deal speakers into new buckets. */
  salt?: string;
}

export const DEFAULT_SPLIT: SplitOptions = { validationPercent: 10, testPercent: 20 };

const MAX_NUM_WAVS_PER_CLASS = 2 ** 27 - 1;

/**
 * The speaker of a Speech Commands-style file name: the part before `_nohash_`, less any `word_`
 * prefix (the official test set names its unknown clips `<word>_<speaker>_nohash_<n>.wav`; speaker
 * ids are hex and hold no underscore). Files without `_nohash_` are their own speaker.
 */
export function speakerOf(fileName: string): string {
  const base = fileName.replace(/(\.wav)+$/i, '');
  const cut = base.indexOf('_nohash_');
  if (cut < 0) return base;
  const prefix = base.slice(0, cut);
  return prefix.slice(prefix.lastIndexOf('_') + 1);
}

/**
 * The official Speech Commands rule (`which_set` in its input_data.py): SHA-1 of the speaker id as
 * an integer, mod 2^27, scaled to [0, 100]; below validation% -> validation, below
 * validation% + test% -> test, else train. The same speaker always lands in the same split.
 */
export function splitOf(speaker: string, options: SplitOptions = DEFAULT_SPLIT): SplitName {
  const hex = createHash('sha1')
    .update(`${options.salt ?? ''}${speaker}`)
    .digest('hex');
  // The integer mod 2^27 depends only on its last 27 bits: the last 7 hex digits hold 28.
  const percent = ((parseInt(hex.slice(-7), 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) * 100) / MAX_NUM_WAVS_PER_CLASS;
  if (percent < options.validationPercent) return 'validation';
  if (percent < options.validationPercent + options.testPercent) return 'test';
  return 'train';
}

export function checkSplitOptions(options: SplitOptions): void {
  const { validationPercent: v, testPercent: t } = options;
  if (!(v >= 0 && t >= 0 && v + t <= 100)) {
    throw new BeeError(`split percentages must be >= 0 and sum to at most 100, got validation ${v}, test ${t}`, {
      hint: 'lower --validation-percent or --test-percent',
    });
  }
}
