import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { encodeWav } from '../../audio/wav.js';
import { findWavs } from '../../data/dataset.js';
import type { SplitName } from '../../data/split.js';
import { BeeError } from '../../errors.js';
import { buildStream, DEFAULT_STREAM, truthCsv } from '../../stream/stream-writer.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { makeDir } from '../../util/make-dir.js';
import { addDatasetOptions, datasetFromFlags, type DatasetFlags } from '../dataset-options.js';
import { printJson, type Progress, progressBar } from '../io.js';
import { nonNegative, wholeNumber } from '../parsers.js';

interface StreamFlags extends DatasetFlags {
  split: SplitName;
  noiseDir?: string;
  noiseGain: number;
  gap: [number, number];
  seed: number;
  out: string;
  json?: boolean;
}

const gapRange = (value: string): [number, number] => {
  const parts = value.split(',').map(nonNegative);
  if (parts.length !== 2 || parts[0] > parts[1]) throw new InvalidArgumentError('expected MIN,MAX seconds, e.g. 1,3');
  return [parts[0], parts[1]];
};

export const dataStreamCommand = addDatasetOptions(
  new Command('stream').description("a long recording of a split's clips at random gaps over background noise, and its truth (for bee listen --truth)"),
)
  .addOption(new Option('--split <name>', 'whose clips').choices(['train', 'validation', 'test']).default('test'))
  .option('--noise-dir <dir>', "background-noise WAVs, looped under the stream (default: the dataset's _background_noise_)")
  .option('--noise-gain <g>', 'the noise recordings times g (1: as recorded; 0: no noise)', nonNegative, DEFAULT_STREAM.noiseGain)
  .option('--gap <min,max>', 'seconds between clips, uniform in [min, max]', gapRange, DEFAULT_STREAM.gap)
  .option('--seed <n>', 'the clips order and gaps', wholeNumber(0, 2 ** 32 - 1), DEFAULT_STREAM.seed)
  .requiredOption('--out <file.wav>', 'the recording (16 kHz, 16-bit mono); its truth goes beside it as FILE.csv')
  .option('--json', 'print what was written as JSON')
  .addHelpText(
    'after',
    `
Every clip of the split in a seeded random order, each after a gap of silence over the noise;
the truth CSV holds each clip's start, end (seconds) and label (bee listen --truth counts the
labels it may report: _silence_ and _unknown_ clips are there to be ignored).

Examples:
  $ bee data stream --data ../shared/data/speech-commands-v0.02-test --split-salt bee --split test \\
      --noise-dir ../shared/data/speech-commands-background-noise --out runs/stream.wav
  $ bee listen runs/stream.wav --model runs/sc.bee --truth runs/stream.csv`,
  )
  .action((flags: StreamFlags) => {
    if (!/\.wav$/i.test(flags.out)) throw new BeeError('--out must name a .wav file', { file: flags.out, hint: 'e.g. --out stream.wav' });
    const dataset = datasetFromFlags(flags);
    const noiseFiles = flags.noiseDir ? findWavs(path.resolve(flags.noiseDir)) : dataset.noiseFiles;
    if (flags.noiseDir && !noiseFiles.length)
      throw new BeeError('no WAV files', { file: flags.noiseDir, hint: 'pass a folder of background-noise recordings' });
    let bar: Progress | undefined;
    const options = { ...DEFAULT_STREAM, split: flags.split, noiseFiles, noiseGain: flags.noiseGain, gap: flags.gap, seed: flags.seed };
    const { samples, truth } = buildStream(dataset, options, (done, total) => {
      bar ??= progressBar('reading clips', total);
      bar.update(done);
    });
    bar?.stop();
    makeDir(path.dirname(path.resolve(flags.out)));
    const csv = flags.out.replace(/\.wav$/i, '.csv');
    writeFileAtomic(flags.out, encodeWav({ sampleRate: DEFAULT_STREAM.sampleRate, channels: [samples], bits: 16 }));
    writeFileAtomic(csv, truthCsv(truth));
    const result = { out: flags.out, truth: csv, clips: truth.length, seconds: samples.length / DEFAULT_STREAM.sampleRate };
    if (flags.json) return printJson(result);
    console.log(`wrote ${flags.out} (${(result.seconds / 60).toFixed(1)} min, ${result.clips} clips) and ${csv}`);
  });
