import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { initBackend } from '../../backend/backend.js';
import { findWavs } from '../../data/dataset.js';
import { loadFeatures } from '../../data/feature-cache.js';
import { BeeError } from '../../errors.js';
import { PAPER_FEATURES } from '../../features/params.js';
import { readModelMeta } from '../../model/saved-model.js';
import { DEFAULT_AUGMENT } from '../../train/augment.js';
import { train, type EpochRecord } from '../../train/trainer.js';
import { addDatasetOptions, datasetFromFlags, type DatasetFlags } from '../dataset-options.js';
import { backendNotice, notice, printJson, progressBar, stopOnInterrupt, type Progress } from '../io.js';
import { positiveNumber, wholeNumber } from '../parsers.js';

interface TrainFlags extends Omit<DatasetFlags, 'data'> {
  data?: string;
  epochs: number;
  batchSize: number;
  lr: number;
  exitWeights: number[];
  seed: number;
  out: string;
  resume?: boolean;
  precision: 'binary' | 'float';
  width: number;
  augment: boolean;
  noiseDir?: string;
  cache?: string;
  json?: boolean;
}

const weightList = (value: string) => {
  const w = value.split(',').map(Number);
  if (w.length !== 4 || w.some((x) => !(x >= 0))) throw new InvalidArgumentError('expected 4 comma-separated numbers >= 0, e.g. 1,1,1,1');
  return w;
};

const pct = (x: number) => `${(100 * x).toFixed(1)}`;
const accs = (a: number[]) => a.map(pct).join(' ');

/** One line per epoch: loss, accuracy of each exit on train and validation, speed (also bee demo's). */
export function epochLine(r: EpochRecord, epochs: number): string {
  const v = r.validation ? `  val acc ${accs(r.validation.accuracy)}` : '';
  return `epoch ${r.epoch}/${epochs}  loss ${r.train.loss.toFixed(3)}  train acc ${accs(r.train.accuracy)}${v}  ${r.examplesPerSecond.toFixed(0)} ex/s  ${r.seconds.toFixed(0)} s${r.best ? '  *best' : ''}`;
}

export const trainCommand = addDatasetOptions(
  new Command('train').description('train a binary early-exit network on every exit at once'),
  false,
)
  .option('--epochs <n>', 'epochs to train (with --resume: the new total)', wholeNumber(1), 50)
  .option('--batch-size <n>', 'examples per step', wholeNumber(1), 128)
  .option('--lr <rate>', 'Adam learning rate', positiveNumber, 1e-3)
  .option('--exit-weights <w1,w2,w3,w4>', "weights of the exits' cross-entropies in the loss", weightList, [1, 1, 1, 1])
  .option('--seed <n>', 'seed of the initial weights, data order and augmentation', wholeNumber(0), 1)
  .option('--out <dir>', 'where checkpoints (best/, last/) and metrics.jsonl go', 'runs/bee')
  .option('--resume', 'continue the run in --out from its last complete epoch')
  .addOption(new Option('--precision <p>', 'binary: sign weights and activations; float: the notebook as written').choices(['binary', 'float']).default('binary'))
  .option('--width <x>', 'channel multiplier of the 32/64/128/256 blocks (e.g. 0.25 for a quick model)', positiveNumber, 1)
  .option('--no-augment', 'no random time shift and background noise')
  .option('--noise-dir <dir>', 'background-noise WAVs to mix in (default: the dataset\'s _background_noise_)')
  .option('--cache <dir>', 'feature cache directory (default: $BEE_CACHE_DIR or ~/.cache/bee)')
  .option('--json', 'print the run summary as JSON at the end')
  .addHelpText('after', `
Examples:
  $ bee train --data data/speech_commands_v0.02 --epochs 50
  $ bee train --data ../shared/data/speech-commands-v0.02-test --split-salt bee \\
      --noise-dir ../shared/data/speech-commands-background-noise --out runs/sc
  $ bee train --out runs/sc --resume --epochs 60
  $ bee train --data DIR --width 0.25 --epochs 3 --no-augment --out runs/quick`)
  .action(async (flags: TrainFlags) => {
    const backend = await initBackend();
    backendNotice(backend);
    let dataFlags = flags;
    if (flags.resume && !flags.data) {
      // Resume on the data the run was trained on.
      if (!fs.existsSync(path.join(flags.out, 'last'))) throw new BeeError('no checkpoint to resume from', { file: flags.out, hint: 'run without --resume to start training' });
      const meta = readModelMeta(path.join(flags.out, 'last'));
      if (!meta.data) throw new BeeError('the checkpoint does not say what data it was trained on', { file: flags.out, hint: 'pass --data' });
      const { root, split, classSet } = meta.data;
      dataFlags = { ...flags, data: root, splitSalt: split.salt, validationPercent: split.validationPercent, testPercent: split.testPercent, hashSplit: split.method === 'hash', classes: classSet };
    }
    const data = dataFlags.data;
    if (!data) throw new BeeError('no dataset', { hint: 'pass --data DIR' });
    const dataset = datasetFromFlags({ ...dataFlags, data });
    const bar = progressBar('features', dataset.clips.length);
    const table = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir: flags.cache, onProgress: (done) => bar.update(done) });
    bar.stop();
    if (table.stats.rebuilt) notice(`feature cache was ${table.stats.rebuilt}; rebuilt it`);
    if (table.stats.notSaved) notice(`feature cache not saved (${table.stats.notSaved}); features will be computed again next time`);
    if (table.failed.length) notice(`skipped ${table.failed.length} unreadable files (first: ${table.failed[0].file}: ${table.failed[0].reason})`);

    const stopRequested = stopOnInterrupt('stopping after this step; the last complete epoch is saved (Ctrl-C again to quit now)');
    let epochBar: Progress | undefined;
    const result = await train({
      dataset,
      table,
      out: flags.out,
      resume: flags.resume,
      options: {
        ...(flags.noiseDir ? { noiseFiles: findWavs(path.resolve(flags.noiseDir)) } : {}),
        epochs: flags.epochs,
        batchSize: flags.batchSize,
        learningRate: flags.lr,
        exitWeights: flags.exitWeights,
        seed: flags.seed,
        precision: flags.precision,
        width: flags.width,
        augment: flags.augment ? DEFAULT_AUGMENT : false,
      },
      callbacks: {
        onStatus: notice,
        onEpochStart: (epoch, steps) => {
          epochBar = progressBar(`epoch ${epoch}/${flags.epochs}`, steps, ' | loss {loss} | acc {acc} | {eps} ex/s', { loss: '-', acc: '-', eps: '-' });
        },
        onBatch: (b) => epochBar?.update(b.step, { loss: b.loss.toFixed(3), acc: accs(b.accuracy), eps: b.examplesPerSecond.toFixed(0) }),
        onEpochEnd: (record) => {
          epochBar?.stop();
          process.stderr.write(`${epochLine(record, flags.epochs)}\n`);
        },
        shouldStop: stopRequested,
      },
    });
    epochBar?.stop();
    const summary = { out: path.resolve(result.out), epochs: result.history.length, best: result.best, test: result.test, stopped: result.stopped, last: result.history.at(-1) ?? null };
    if (result.stopped) {
      process.exitCode = 130;
      notice(result.history.length ? `interrupted; continue with: bee train --out ${flags.out} --resume` : 'interrupted before the first epoch ended; nothing was saved');
    }
    if (flags.json) return printJson(summary);
    if (result.test) console.log(`test accuracy per exit (best checkpoint, full network): ${accs(result.test.accuracy)}`);
    console.log(`model: ${path.join(flags.out, 'best')} (epoch ${result.best?.epoch ?? '-'}, exit-4 validation accuracy ${result.best ? pct(result.best.metric) + '%' : '-'}); metrics: ${path.join(flags.out, 'metrics.jsonl')}`);
  });
