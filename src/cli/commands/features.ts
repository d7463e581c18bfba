import { Command } from 'commander';
import { readWav } from '../../audio/wav.js';
import { LogMel } from '../../features/logmel.js';
import { PAPER_FEATURES } from '../../features/params.js';
import { printJson } from '../io.js';

export const featuresCommand = new Command('features')
  .description("compute a WAV file's log-mel features (the paper's pipeline, as TensorFlow computes it)")
  .argument('<file>', 'a WAV file: PCM 8/16/24/32-bit or 32-bit float, any sample rate, any length')
  .option('--json', 'print {"shape": [frames, mel bins], "data": [[...], ...]}')
  .addHelpText(
    'after',
    `
A clip is resampled to 16 kHz, then centre zero-padded to 1 s (or centre-cropped if longer), and
turned into 98 frames x 64 log-mel bins.

Examples:
  $ bee features yes.wav
  $ bee features yes.wav --json > yes.json`,
  )
  .action((file: string, flags: { json?: boolean }) => {
    const audio = readWav(file);
    const { frames, melBins, data } = new LogMel(PAPER_FEATURES).fromAudio(audio);
    if (flags.json) {
      const rows = Array.from({ length: frames }, (_, f) => Array.from(data.subarray(f * melBins, (f + 1) * melBins)));
      return printJson({ shape: [frames, melBins], data: rows });
    }
    let min = Infinity;
    let max = -Infinity;
    let sum = 0;
    for (const v of data) {
      min = Math.min(min, v);
      max = Math.max(max, v);
      sum += v;
    }
    console.log(`${file}: ${audio.samples.length} samples at ${audio.sampleRate} Hz (${(audio.samples.length / audio.sampleRate).toFixed(3)} s)`);
    console.log(`features: ${frames} x ${melBins}, min ${min.toFixed(3)}, max ${max.toFixed(3)}, mean ${(sum / data.length).toFixed(3)}`);
  });
