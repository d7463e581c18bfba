import path from 'node:path';
import { Command, Option } from 'commander';
import { initBackend } from '../../backend/backend.js';
import { findWavs, loadRecordedDataset } from '../../data/dataset.js';
import { isPackedFile } from '../../engine/packed-file.js';
import { BeeError } from '../../errors.js';
import { frameCount, PAPER_FEATURES } from '../../features/params.js';
import { ARCH_NAMES, FAMILIES } from '../../spec/families.js';
import { type ArchName, DEFAULT_NETWORK, type ExitHead, pooledExitHead } from '../../model/network.js';
import { MAX_STAGES } from '../../spec/network-config.js';
import { readModelMeta, resolveModelDir } from '../../model/saved-model.js';
import { DEFAULT_AUGMENT, DEFAULT_SPEC_AUGMENT } from '../../data/augment.js';
import { checkRecipe, DEFAULT_RECIPE, type Schedule } from '../../train/recipe.js';
import { type ResumePoint, resumePoint } from '../../train/checkpoint.js';
import { train } from '../../train/trainer.js';
import { addDatasetOptions, datasetFromFlags, type DatasetFlags } from '../dataset-options.js';
import { loadFeaturesWithNotices } from '../feature-input.js';
import { backendNotice, notice, printJson, progressBar, stopOnInterrupt, type Progress } from '../io.js';
import {
  batchSizeOrAuto,
  classWeightMap,
  decibelRange,
  exitGrid,
  exitWeightList,
  momentum,
  nonNegative,
  positiveNumber,
  share,
  shiftSeconds,
  speedSpread,
  stageWidths,
  wholeNumber,
} from '../parsers.js';
import { accs, epochLine, pct } from '../epoch-line.js';
import { trainFrom, type TrainFromFlags } from '../train-from.js';
import { folderWithNegatives } from '../../transfer/negative-folders.js';

interface TrainFlags extends Omit<DatasetFlags, 'data'> {
  data?: string;
  epochs?: number;
  batchSize: number | 'auto';
  lr: number;
  schedule: Schedule;
  warmupEpochs: number;
  exitRamp: number;
  distill: number;
  distillTemperature: number;
  teacher?: string;
  classWeights?: Record<string, number>;
  arch: ArchName;
  exitHead: ExitHead['type'];
  exitGrid?: [number, number];
  exitHidden?: number;
  bnMomentum: number;
  firstBlock?: 'real' | 'binary';
  scaledKernels?: boolean;
  signShift?: boolean;
  selection: 'mean-exit' | 'last-exit';
  specAugment?: boolean;
  timeShift: number;
  noiseSnr?: [number, number];
  cutWords: number;
  synthNegatives: number;
  speedPerturb: number;
  hardNegatives?: string;
  exitWeights?: number[];
  seed: number;
  out: string;
  resume?: boolean;
  precision: 'binary' | 'float';
  width: number;
  filters?: number[];
  augment: boolean;
  noiseDir?: string;
  cache?: string;
  cacheVerify?: boolean;
  json?: boolean;
  from?: string;
  freeze?: 'body' | 'none';
}

/**
 * --data's dataset; resumed without it, the data the run was trained on, split as it was. Fine-tuning
 * on a folder of new words (--from --freeze none): with the _silence_ and _unknown_ examples it
 * lacks, made as --freeze body makes them.
 */
function datasetOf(flags: TrainFlags, resumed: ResumePoint | undefined) {
  if (flags.data && flags.from && !resumed) {
    const { root, sources } = folderWithNegatives(flags.data, PAPER_FEATURES, { noiseDir: flags.noiseDir, cacheDir: flags.cache, seed: flags.seed });
    if (root !== path.resolve(flags.data)) notice(`negatives added to the words (${root}): background ${sources.noise}, other speech ${sources.unknown}`);
    return datasetFromFlags({ ...flags, data: root });
  }
  if (flags.data) return datasetFromFlags({ ...flags, data: flags.data });
  if (resumed?.data) return loadRecordedDataset(resumed.data, { hardNegatives: true });
  if (resumed) throw new BeeError('the checkpoint does not say what data it was trained on', { file: flags.out, hint: 'pass --data' });
  throw new BeeError('no dataset', { hint: 'pass --data DIR' });
}

/** What --from --freeze none changes of the recipe's defaults (scripts/few-shot.ts measures it). */
const FINE_TUNE = { epochs: 15, learningRateShare: 0.1 };

/** The flags of bee train that shape a new network: with --from, the network is the model's. */
const NETWORK_FLAGS = ['arch', 'exitHead', 'exitGrid', 'exitHidden', 'bnMomentum', 'firstBlock', 'scaledKernels', 'signShift', 'precision', 'width', 'filters'];

/** Flags given on the command line, of those named. */
const given = (command: Command, names: string[]) => names.filter((n) => command.getOptionValueSource(n) === 'cli');
const asFlag = (name: string) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** bee train --from --freeze body's flags: --data and the few that mean something to new exit heads. */
function customFlags(flags: TrainFlags, command: Command): TrainFromFlags {
  const extra = given(command, Object.keys(flags)).filter((n) => !['from', 'freeze', 'data', 'out', 'epochs', 'seed', 'noiseDir', 'cache', 'json'].includes(n));
  if (extra.length)
    throw new BeeError(`${extra.map(asFlag).join(', ')}: with --from and --freeze body only the exit heads train`, {
      hint: 'drop them; --epochs, --seed, --noise-dir and --out apply (or pass --freeze none)',
    });
  if (!flags.data) throw new BeeError('--from needs --data: a folder of your words', { hint: 'one sub-folder of WAV files per word, e.g. --data my-words' });
  return { ...flags, from: flags.from!, data: flags.data, out: command.getOptionValueSource('out') === 'cli' ? flags.out : 'custom.bee' };
}

/** Flags that mean nothing together: one line rather than a silently ignored flag. */
function checkCombinations(flags: TrainFlags, command: Command): void {
  if (flags.freeze && !flags.from) throw new BeeError("--freeze says what of --from's model stays as it is", { hint: 'pass --from MODEL, or drop --freeze' });
  const network = given(command, NETWORK_FLAGS);
  if (flags.from && network.length) throw new BeeError(`${network.map(asFlag).join(', ')}: with --from the network is the model's`, { hint: 'drop them' });
  if (flags.from && flags.resume) throw new BeeError('--resume continues a run, --from starts one', { hint: 'drop --from: the run remembers it' });
  if (flags.from && isPackedFile(flags.from))
    throw new BeeError('a .bee file holds a packed body, which cannot train: --freeze none needs the model directory', {
      file: flags.from,
      hint: 'pass --from DIR (the run bee train wrote), or --freeze body',
    });
  const stages = flags.filters?.length ?? FAMILIES[flags.arch].filters.length;
  if (flags.exitWeights && !flags.resume && !flags.from && flags.exitWeights.length !== stages)
    throw new BeeError(`${flags.exitWeights.length} exit weights for a network of ${stages} exits`, {
      hint: `one per exit, e.g. --exit-weights ${Array(stages).fill(1).join(',')}`,
    });
  if ((flags.exitGrid || flags.exitHidden !== undefined) && flags.exitHead !== 'pooled')
    throw new BeeError('--exit-grid and --exit-hidden shape the pooled exit head', { hint: 'drop them, or pass --exit-head pooled' });
  if (!flags.augment && (flags.specAugment || flags.noiseSnr || flags.cutWords || flags.synthNegatives || flags.speedPerturb))
    throw new BeeError(
      '--spec-augment, --noise-snr, --cut-words, --synth-negatives and --speed-perturb shape the augmentation, and --no-augment turns it off',
      {
        hint: 'drop one of them',
      },
    );
  if (flags.firstBlock === 'binary' && FAMILIES[flags.arch].fixed.realFirstBlock)
    throw new BeeError(`--first-block binary: ${flags.arch}'s first stage is a real stem`, { hint: 'drop it, or train --arch bee or xnor' });
  if (flags.precision === 'float' && (flags.scaledKernels || flags.signShift))
    throw new BeeError('--scaled-kernels and --sign-shift act on binary kernels and signs', { hint: 'drop them with --precision float' });
  checkRecipe({
    schedule: flags.schedule,
    learningRate: flags.lr,
    warmupEpochs: flags.warmupEpochs,
    exitRampEpochs: flags.exitRamp,
    distill: flags.distill,
    distillTemperature: flags.distillTemperature,
    teacher: flags.teacher,
  });
}

export const trainCommand = addDatasetOptions(new Command('train').description('train a binary early-exit network on every exit at once'), false)
  .option(
    '--epochs <n>',
    "epochs to train (default 50; with --resume: the new total, default the run's own; with --from: 15, or the exit heads' 10)",
    wholeNumber(1),
  )
  .option(
    '--batch-size <n>',
    'examples per step; auto: 128, or 64 or 32 where the train split has too few clips for 50 steps an epoch',
    batchSizeOrAuto,
    'auto',
  )
  .option('--lr <rate>', 'peak Adam learning rate (with --from --freeze none: a tenth of it unless given)', positiveNumber, DEFAULT_RECIPE.learningRate)
  .addOption(
    new Option('--schedule <s>', 'learning rate after warmup: cosine decay to 0, or constant').choices(['cosine', 'constant']).default(DEFAULT_RECIPE.schedule),
  )
  .option('--warmup-epochs <n>', 'epochs of linear learning-rate warmup', nonNegative, DEFAULT_RECIPE.warmupEpochs)
  .option('--exit-weights <w1,w2,...>', "weights of the exits' losses, one per exit (default 1 each)", exitWeightList)
  .option('--exit-ramp <epochs>', "ramp the early exits' weights up over the first epochs (0: none)", nonNegative, DEFAULT_RECIPE.exitRampEpochs)
  .option(
    '--distill <weight>',
    'weight of the distillation term: the last exit (or --teacher) teaches the others; 0: none (e.g. 1)',
    nonNegative,
    DEFAULT_RECIPE.distill,
  )
  .option('--distill-temperature <t>', 'softmax temperature of distillation', positiveNumber, DEFAULT_RECIPE.distillTemperature)
  .option('--teacher <dir>', 'a trained bee model (e.g. --precision float) whose last exit teaches every exit (with --distill)')
  .option('--class-weights <label=w,...>', "a weight on the loss of the named classes' examples (others 1), e.g. _unknown_=2", classWeightMap)
  .addOption(
    new Option('--arch <name>', `the blocks: ${ARCH_NAMES.map((a) => `${a} (${FAMILIES[a].description})`).join('; ')}`)
      .choices(ARCH_NAMES)
      .default(DEFAULT_NETWORK.arch),
  )
  .addOption(
    new Option('--exit-head <head>', 'paper: global max-pool -> dense; pooled: max, mean and a grid of means -> dense')
      .choices(['paper', 'pooled'])
      .default(DEFAULT_NETWORK.exitHead.type),
  )
  .option('--exit-grid <RxC>', "the pooled head's grid: cells along time x frequency (default 4x2, or what the last stage holds)", exitGrid)
  .option('--exit-hidden <units>', `a hidden ReLU layer of that many units, after a BatchNorm, in every pooled exit head (default 0: none)`, wholeNumber(0))
  .option('--bn-momentum <m>', "momentum of BatchNorm's moving statistics", momentum, DEFAULT_NETWORK.bnMomentum)
  .addOption(
    new Option(
      '--first-block <w>',
      `binary bee and xnor networks: the first block's two convolutions keep real weights, or are binary too (default ${DEFAULT_NETWORK.realFirstBlock ? 'real' : 'binary'})`,
    ).choices(['real', 'binary']),
  )
  .option('--scaled-kernels', 'binary networks: a scale per output channel of every binary kernel (XNOR-Net)')
  .option('--sign-shift', 'binary networks: a learnable threshold per channel before every sign (RSign)')
  .addOption(
    new Option('--selection <s>', "best checkpoint by the mean of every exit's validation accuracy, or by the last exit's")
      .choices(['mean-exit', 'last-exit'])
      .default(DEFAULT_RECIPE.selection),
  )
  .option('--seed <n>', 'seed of the initial weights, data order and augmentation', wholeNumber(0), 1)
  .option('--out <dir>', 'where checkpoints (best/, last/) and metrics.jsonl go (--from --freeze body: the .bee file, default custom.bee)', 'runs/bee')
  .option('--resume', 'continue the run in --out from its last complete epoch')
  .addOption(
    new Option('--precision <p>', 'binary: sign weights and activations; float: the notebook as written').choices(['binary', 'float']).default('binary'),
  )
  .option('--width <x>', "channel multiplier of the stages' widths (e.g. 0.25 for a quick model)", positiveNumber, 1)
  .option(
    '--filters <f1,f2,...>',
    `the stages' output channels before --width, one per stage and exit (1-${MAX_STAGES}; default: the architecture's: ${ARCH_NAMES.map((a) => `${a} ${FAMILIES[a].filters.join(',')}`).join('; ')})`,
    stageWidths,
  )
  .option('--no-augment', 'no random time shift and background noise')
  .option('--spec-augment', 'SpecAugment time and frequency masks on the log-mel features too')
  .option('--time-shift <s>', 'shift each clip by up to this many seconds either way', shiftSeconds, DEFAULT_AUGMENT.maxShiftSeconds)
  .option('--noise-snr <min,max>', 'mix the noise at a signal-to-noise ratio uniform in [min, max] dB, not at a gain (e.g. -5,20)', decibelRange)
  .option('--speed-perturb <s>', 'play each clip faster or slower by up to this share (0.1: 0.9-1.1x; pitch moves with it): more voices', speedSpread, 0)
  .option('--cut-words <p>', 'this share of word clips shifted mostly out of the window and labelled _unknown_ (a stream sees words partly)', share, 0)
  .option(
    '--synth-negatives <x>',
    'add x times the training clips to each epoch as 1 s windows of synthesized sentences with no keyword, labelled _unknown_',
    share,
    0,
  )
  .option(
    '--hard-negatives <dir>',
    "a folder of 1 s WAVs that are no keyword (bee data mine's: windows of training-split streams a model took for keywords; sub-folders too, one per round of mining), added to the train split as _unknown_",
  )
  .option('--noise-dir <dir>', "background-noise WAVs to mix in (default: the dataset's _background_noise_)")
  .option('--cache <dir>', 'feature cache directory (default: $BEE_CACHE_DIR or ~/.cache/bee)')
  .option('--cache-verify', "reuse a clip's cached features only if the file's content is unchanged (hashes every file), not just its size and mtime")
  .option(
    '--from <model>',
    'start from a trained model (a .bee file or a model directory; the shipped one: data/pretrained/sc12-base.bee): its body, new exit heads for the words of --data',
  )
  .addOption(
    new Option(
      '--freeze <part>',
      'with --from: body trains the new exit heads alone, without TensorFlow, into one .bee (default); none fine-tunes every layer (a model directory)',
    ).choices(['body', 'none']),
  )
  .option('--json', 'print the run summary as JSON at the end')
  .addHelpText(
    'after',
    `
Examples:
  $ bee train --data data/speech_commands_v0.02 --epochs 50
  $ bee train --data ../shared/data/speech-commands-v0.02-test --split-salt bee \\
      --noise-dir ../shared/data/speech-commands-background-noise --out runs/sc
  $ bee train --out runs/sc --resume                # after Ctrl-C: the same run, to its end
  $ bee train --out runs/sc --resume --epochs 60     # 10 more epochs, a cosine cycle of their own
  $ bee train --data DIR --width 0.25 --epochs 3 --no-augment --out runs/quick
  $ bee train --data DIR --precision float --out runs/float && bee train --data DIR --teacher runs/float
  $ bee train --data DIR --arch bee --exit-head paper --first-block binary --bn-momentum 0.99 \\
      --schedule constant --warmup-epochs 0 --lr 1e-3 --batch-size 128 --selection last-exit  # the paper's recipe
  $ bee train --data DIR --distill 1 --spec-augment   # + self-distillation and SpecAugment
  $ bee train --data DIR --arch bee --out runs/bee   # the paper's block (docs/recipe.md compares the families)
  $ bee train --data DIR --filters 32,64,128,256    # reactnet at the paper's channels
  $ bee train --data DIR --hard-negatives runs/hard-negatives --out runs/sc-hard  # + what a model confused (bee data mine)
  $ bee train --from data/pretrained/sc12-base.bee --data my-words --out my-words.bee   # your own words: 5-20 WAVs a word
  $ bee train --from runs/sc --freeze none --data DIR --epochs 20 --out runs/mine  # fine-tune every layer`,
  )
  .action(async (flags: TrainFlags, command: Command) => {
    if (flags.from && flags.freeze !== 'none') return trainFrom(customFlags(flags, command));
    checkCombinations(flags, command);
    const backend = await initBackend();
    backendNotice(backend);
    const resumed = flags.resume ? resumePoint(flags.out) : undefined;
    // fine-tuning (--from --freeze none): fewer epochs at a tenth of the rate, so the trained body is adjusted, not relearned
    const epochs = flags.epochs ?? resumed?.epochs ?? (flags.from ? FINE_TUNE.epochs : 50);
    const lr = flags.from && command.getOptionValueSource('lr') !== 'cli' ? flags.lr * FINE_TUNE.learningRateShare : flags.lr;
    const dataset = datasetOf(flags, resumed);
    const noiseFiles = flags.noiseDir ? findWavs(path.resolve(flags.noiseDir)) : undefined;
    const table = await loadFeaturesWithNotices(dataset, PAPER_FEATURES, flags);
    // with --from, the model's stages
    const stages = flags.from
      ? readModelMeta(resolveModelDir(flags.from)).network.filters.length
      : (flags.filters?.length ?? FAMILIES[flags.arch].filters.length);

    const stopRequested = stopOnInterrupt('stopping after this step; the last complete epoch is saved (Ctrl-C again to quit now)');
    let epochBar: Progress | undefined;
    const result = await train({
      dataset,
      table,
      out: flags.out,
      resume: flags.resume,
      options: {
        ...(noiseFiles ? { noiseFiles } : {}),
        ...(flags.teacher ? { teacher: path.resolve(flags.teacher) } : {}),
        epochs,
        batchSize: flags.batchSize,
        learningRate: lr,
        schedule: flags.schedule,
        warmupEpochs: flags.warmupEpochs,
        exitWeights: flags.exitWeights ?? Array(stages).fill(1),
        exitRampEpochs: flags.exitRamp,
        distill: flags.distill,
        distillTemperature: flags.distillTemperature,
        ...(flags.classWeights ? { classWeights: flags.classWeights } : {}),
        seed: flags.seed,
        ...(flags.from ? { from: path.resolve(flags.from) } : {}),
        precision: flags.precision,
        width: flags.width,
        network: {
          exitHead:
            flags.exitHead === 'pooled'
              ? pooledExitHead([frameCount(PAPER_FEATURES), PAPER_FEATURES.melBins, 1], stages, { grid: flags.exitGrid, hidden: flags.exitHidden })
              : { type: 'paper' },
          arch: flags.arch,
          ...(flags.filters ? { filters: flags.filters } : {}),
          bnMomentum: flags.bnMomentum,
          ...(flags.firstBlock ? { realFirstBlock: flags.firstBlock === 'real' } : {}),
          // unset: the architecture's own (xnor, bireal and reactnet scale their kernels; reactnet shifts its signs)
          scaledKernels: flags.scaledKernels,
          signShift: flags.signShift,
        },
        selection: flags.selection,
        augment: flags.augment
          ? {
              ...DEFAULT_AUGMENT,
              maxShiftSeconds: flags.timeShift,
              ...(flags.noiseSnr ? { snrDb: flags.noiseSnr } : {}),
              ...(flags.cutWords ? { cutWords: flags.cutWords } : {}),
              ...(flags.synthNegatives ? { synthNegatives: flags.synthNegatives } : {}),
              ...(flags.speedPerturb ? { speedSpread: flags.speedPerturb } : {}),
              ...(flags.specAugment ? { specAugment: DEFAULT_SPEC_AUGMENT } : {}),
            }
          : false,
      },
      callbacks: {
        onStatus: notice,
        onEpochStart: (epoch, steps) => {
          epochBar = progressBar(`epoch ${epoch}/${epochs}`, steps, ' | loss {loss} | acc {acc} | {eps} ex/s', { loss: '-', acc: '-', eps: '-' });
        },
        onBatch: (b) => epochBar?.update(b.step, { loss: b.loss.toFixed(3), acc: accs(b.accuracy), eps: b.examplesPerSecond.toFixed(0) }),
        onEpochEnd: (record) => {
          epochBar?.stop();
          process.stderr.write(`${epochLine(record, epochs)}\n`);
        },
        shouldStop: stopRequested,
      },
    });
    epochBar?.stop();
    const summary = {
      out: path.resolve(result.out),
      epochs: result.history.length,
      best: result.best,
      test: result.test,
      stopped: result.stopped,
      last: result.history.at(-1) ?? null,
    };
    if (result.stopped) {
      process.exitCode = 130;
      notice(
        result.history.length
          ? `interrupted; continue with: bee train --out ${flags.out} --resume`
          : 'interrupted before the first epoch ended; nothing was saved',
      );
    }
    if (flags.json) return printJson(summary);
    if (result.test) console.log(`test accuracy per exit (best checkpoint, full network): ${accs(result.test.accuracy)}`);
    console.log(
      `model: ${path.join(flags.out, 'best')} (epoch ${result.best?.epoch ?? '-'}, validation score ${result.best ? pct(result.best.metric) + '%' : '-'}); metrics: ${path.join(flags.out, 'metrics.jsonl')}`,
    );
  });
