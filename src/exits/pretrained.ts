import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BeeError } from '../errors.js';

/**
 * The models bee ships (data/pretrained/, made by scripts/pretrained.ts), both the default network
 * trained 50 epochs on the train split (--split-salt bee) of the Speech Commands v0.02 *test* set.
 * They have seen most of the official test set, so they must not be scored on it; the split's own
 * test clips they have not seen.
 */
const shipped = (name: string) => fileURLToPath(new URL(`../../data/pretrained/${name}`, import.meta.url));

/** The spotter: what bee listen, predict, web and data mine run without --model (the stream recipe, then a round of hard negatives). */
export const PRETRAINED_MODEL = shipped('sc12.bee');

/**
 * The transfer base: the body your own words are learned on (bee train --from, the page's "add a
 * word"). The stream recipe without the hard negatives: they teach the body to make non-keyword
 * words alike, which a spotter wants and new words do not (docs/streams.md).
 */
export const PRETRAINED_BASE = shipped('sc12-base.bee');

export const PRETRAINED_NOTE =
  "trained on the train split (--split-salt bee) of the Speech Commands v0.02 test set: it has seen most of the official test set, so do not score it there (its own split's test clips are unseen)";

function pretrained(file: string, flag: '--model' | '--base'): string {
  if (!fs.existsSync(file)) throw new BeeError(`no ${flag}, and the pretrained model is missing`, { file, hint: `pass ${flag} DIR|FILE.bee` });
  return file;
}

/** --model, or the shipped spotter where none was given. */
export function modelOrPretrained(model: string | undefined): string {
  return model ?? pretrained(PRETRAINED_MODEL, '--model');
}

/** The model new words start from: the one given, or the shipped transfer base where none was given. */
export function baseOrPretrained(model: string | undefined): string {
  return model ?? pretrained(PRETRAINED_BASE, '--base');
}
