// Small on-disk datasets for tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sine, writeWav } from './wav.ts';

export function tempDir(prefix = 'bee-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export const SHARED_DATA = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'data');
export const SHARED_TEST_SET = process.env.BEE_SHARED_DATA
  ? path.join(process.env.BEE_SHARED_DATA, 'speech-commands-v0.02-test')
  : path.join(SHARED_DATA, 'speech-commands-v0.02-test');
export const sharedSkip = fs.existsSync(SHARED_TEST_SET)
  ? false
  : `the shared Speech Commands test set is not at ${SHARED_TEST_SET} (set BEE_SHARED_DATA to its parent folder)`;

/** Writes a tone clip; `seconds` and `rate` vary so layouts and resampling are exercised. */
export function writeClip(file: string, frequency: number, rate = 16000, seconds = 1): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeWav(file, { sampleRate: rate, bits: 16, channels: [sine(frequency, rate, seconds, 0.3)] });
}

/**
 * A miniature of the official Speech Commands archive: word folders, `_background_noise_`, and
 * validation/testing lists.
 */
export function makeSpeechCommandsArchive(root: string): void {
  const words = ['yes', 'no', 'bed', 'cat'];
  const speakers = ['0a7c2a8d', '0c40e715', '3d86b69a', 'beefcafe'];
  words.forEach((word, w) => speakers.forEach((s, k) => writeClip(path.join(root, word, `${s}_nohash_0.wav`), 200 + 100 * w + 10 * k, 16000, 0.5)));
  writeClip(path.join(root, '_background_noise_', 'white_noise.wav'), 50, 16000, 3.5);
  fs.writeFileSync(path.join(root, 'validation_list.txt'), 'yes/0a7c2a8d_nohash_0.wav\nbed/0a7c2a8d_nohash_0.wav\n');
  fs.writeFileSync(path.join(root, 'testing_list.txt'), 'no/0c40e715_nohash_0.wav\n');
}
