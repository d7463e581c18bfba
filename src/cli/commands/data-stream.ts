import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { WavFileWriter } from '../../audio/wav.js';
import { findWavs } from '../../data/dataset.js';
import type { SplitName } from '../../data/split.js';
import { BeeError } from '../../errors.js';
import { DEFAULT_NEGATIVE_STREAM, writeNegativeStream } from '../../stream/negative-stream.js';
import { buildStream, DEFAULT_STREAM, truthCsv } from '../../stream/stream-writer.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { decimal } from '../../util/decimal.js';
import { makeDir } from '../../util/make-dir.js';
import { describeError } from '../../util/read-file.js';
import { addDatasetOptions, datasetFromFlags, type DatasetFlags } from '../dataset-options.js';
import { printJson, type Progress, progressBar } from '../io.js';
import { nonNegative, streamHours, wholeNumber } from '../parsers.js';

interface StreamFlags extends DatasetFlags {
  split: SplitName;
  noiseDir?: string;
  noiseGain: number;
  snr?: number;
  gap?: [number, number];
  negatives?: boolean;
  hours?: number;
  seed: number;
  out: string;
  force?: boolean;
  json?: boolean;
}

const gapRange = (value: string): [number, number] => {
  const parts = value.split(',').map(nonNegative);
  if (parts.length !== 2 || parts[0] > parts[1]) throw new InvalidArgumentError('expected MIN,MAX seconds, e.g. 1,3');
  return [parts[0], parts[1]];
};

const decibels = (value: string) => {
  const n = decimal(value);
  if (!(Number.isFinite(n) && Math.abs(n) <= 60)) throw new InvalidArgumentError('expected decibels in [-60, 60], e.g. 10');
  return n;
};

/** Where a stream may be written: not over a file unless --force, never inside the dataset it reads. */
function checkTargets(files: string[], dataRoot: string, force: boolean | undefined): void {
  const root = fs.realpathSync(dataRoot);
  for (const file of files) {
    const dir = path.dirname(path.resolve(file));
    const real = fs.existsSync(dir) ? fs.realpathSync(dir) : dir;
    if (`${real}${path.sep}`.startsWith(`${root}${path.sep}`))
      throw new BeeError('is inside the dataset being read (--data): a stream there would become one of its clips', {
        file,
        hint: 'pick an --out outside it',
      });
    if (fs.existsSync(file) && !force) throw new BeeError('exists already', { file, hint: 'pass --force to replace it, or pick another --out' });
    if (fs.existsSync(file) && !fs.statSync(file).isFile()) throw new BeeError('is not a file', { file, hint: 'pick another --out' });
  }
}

export const dataStreamCommand = addDatasetOptions(
  new Command('stream').description(
    "a long recording and its truth (for bee listen --truth): a split's clips at random gaps over background noise, or hours with no keyword (--negatives)",
  ),
)
  .addOption(new Option('--split <name>', 'whose clips').choices(['train', 'validation', 'test']).default('test'))
  .option('--noise-dir <dir>', "background-noise WAVs, under the whole stream (default: the dataset's _background_noise_)")
  .option('--noise-gain <g>', 'the noise recordings times g (1: as recorded; 0: no noise)', nonNegative, DEFAULT_STREAM.noiseGain)
  .option('--snr <db>', 'words this many dB above the noise under them (RMS over each clip), not as recorded', decibels)
  .option(
    '--gap <min,max>',
    `seconds between clips, uniform in [min, max] (default ${DEFAULT_STREAM.gap}; --negatives: ${DEFAULT_NEGATIVE_STREAM.gap})`,
    gapRange,
  )
  .option('--negatives', "no keyword: the noise recordings (random segments, gains and mixes) under the split's _unknown_ words and synthesized sentences")
  .option('--hours <h>', 'with --negatives: its length (at most 10)', streamHours)
  .option('--seed <n>', 'the clips order, gaps, noise and voices', wholeNumber(0, 2 ** 32 - 1), DEFAULT_STREAM.seed)
  .requiredOption('--out <file.wav>', 'the recording (16 kHz, 16-bit mono); its truth goes beside it as FILE.csv')
  .option('--force', 'replace --out and its .csv if they exist')
  .option('--json', 'print what was written as JSON')
  .addHelpText(
    'after',
    `
Every clip of the split in a seeded random order, each after a gap of silence over the noise;
the truth CSV holds each clip's start, end (seconds) and label (bee listen --truth counts the
labels it may report: _silence_ and _unknown_ clips are there to be ignored).

With --negatives, --hours of audio with no keyword: segments of 5-30 s of the noise recordings
(random offsets, gains of 0.3-1.5, one in four a mix of two, one in eight near-quiet) under
speech every 1-8 s, half the split's _unknown_ clips, half sentences without a keyword spoken by
the offline synthesizer in 6 voices. Its truth lists each utterance as _unknown_: every
detection bee listen makes on it is a false alarm. Written as it is made, in bounded memory.

Both files are written beside their targets and renamed into place; an existing --out is
replaced only with --force, and nothing is written inside --data.

Examples:
  $ bee data stream --data ../shared/data/speech-commands-v0.02-test --split-salt bee --split test \\
      --noise-dir ../shared/data/speech-commands-background-noise --out runs/stream.wav
  $ bee data stream --data DIR --split-salt bee --split test --noise-dir NOISE --snr 10 --out runs/stream-10db.wav
  $ bee data stream --data DIR --split-salt bee --split test --noise-dir NOISE --negatives --hours 5 --out runs/negatives.wav
  $ bee listen runs/stream.wav --model runs/sc.bee --truth runs/stream.csv`,
  )
  .action((flags: StreamFlags) => {
    if (!/\.wav$/i.test(flags.out)) throw new BeeError('--out must name a .wav file', { file: flags.out, hint: 'e.g. --out stream.wav' });
    if (flags.hours !== undefined && !flags.negatives) throw new BeeError('--hours sets the length of a --negatives stream', { hint: 'pass --negatives too' });
    if (flags.negatives && flags.hours === undefined) throw new BeeError('a --negatives stream needs its length', { hint: 'e.g. --hours 5' });
    if (flags.negatives && flags.snr !== undefined)
      throw new BeeError('--snr sets the level of keywords, and a --negatives stream has none', { hint: 'drop --snr' });
    const { snr } = flags;
    const dataset = datasetFromFlags(flags);
    const noiseFiles = flags.noiseDir ? findWavs(path.resolve(flags.noiseDir)) : dataset.noiseFiles;
    if (flags.noiseDir && !noiseFiles.length)
      throw new BeeError('no WAV files', { file: flags.noiseDir, hint: 'pass a folder of background-noise recordings' });
    if (snr !== undefined && (!noiseFiles.length || flags.noiseGain === 0))
      throw new BeeError('--snr sets the words against the noise, and there is none', { hint: 'pass --noise-dir (and a --noise-gain above 0)' });
    const csv = flags.out.replace(/\.wav$/i, '.csv');
    checkTargets([flags.out, csv], dataset.root, flags.force);
    makeDir(path.dirname(path.resolve(flags.out)));

    let bar: Progress | undefined;
    const writer = new WavFileWriter(flags.out, DEFAULT_STREAM.sampleRate);
    let clips: number;
    try {
      let truth: ReturnType<typeof writeNegativeStream>;
      if (flags.negatives) {
        const options = {
          ...DEFAULT_NEGATIVE_STREAM,
          split: flags.split,
          noiseFiles,
          hours: flags.hours as number,
          seed: flags.seed,
          ...(flags.gap ? { gap: flags.gap } : {}),
        };
        truth = writeNegativeStream(
          dataset,
          options,
          (block) => writer.write(block),
          (done, total) => {
            bar ??= progressBar('writing', Math.round(total));
            bar.update(Math.round(done));
          },
        );
      } else {
        const options = {
          ...DEFAULT_STREAM,
          split: flags.split,
          noiseFiles,
          noiseGain: flags.noiseGain,
          seed: flags.seed,
          ...(flags.gap ? { gap: flags.gap } : {}),
          ...(snr !== undefined ? { snrDb: snr } : {}),
        };
        const built = buildStream(dataset, options, (done, total) => {
          bar ??= progressBar('reading clips', total);
          bar.update(done);
        });
        writer.write(built.samples);
        truth = built.truth;
      }
      bar?.stop();
      clips = truth.length;
      writer.finish();
      writeFileAtomic(csv, truthCsv(truth));
      writer.commit();
    } catch (err) {
      bar?.stop();
      writer.abort();
      const code = (err as NodeJS.ErrnoException).code;
      if (code) throw new BeeError(`cannot write: ${describeError(err)}`, { file: flags.out, hint: 'check free disk space and permissions' });
      throw err;
    }
    const result = { out: flags.out, truth: csv, clips, seconds: writer.seconds, negatives: Boolean(flags.negatives) };
    if (flags.json) return printJson(result);
    const what = flags.negatives ? `${clips} utterances, no keyword` : `${clips} clips`;
    console.log(`wrote ${flags.out} (${(result.seconds / 60).toFixed(1)} min, ${what}) and ${csv}`);
  });
