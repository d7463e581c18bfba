import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BeeError } from '../errors.js';

/**
 * The model bee ships (data/pretrained/, made by scripts/pretrained.ts): the default recipe, 50
 * epochs, on the train split (--split-salt bee) of the Speech Commands v0.02 *test* set. It has
 * seen most of the official test set, so it must not be scored on it; the split's own test clips
 * it has not seen.
 */
export const PRETRAINED_MODEL = fileURLToPath(new URL('../../data/pretrained/sc12.bee', import.meta.url));

export const PRETRAINED_NOTE =
  "trained on the train split (--split-salt bee) of the Speech Commands v0.02 test set: it has seen most of the official test set, so do not score it there (its own split's test clips are unseen)";

/** --model, or the shipped model where none was given. */
export function modelOrPretrained(model: string | undefined): string {
  if (model !== undefined) return model;
  if (!fs.existsSync(PRETRAINED_MODEL))
    throw new BeeError('no --model, and the pretrained model is missing', { file: PRETRAINED_MODEL, hint: 'pass --model DIR|FILE.bee' });
  return PRETRAINED_MODEL;
}
