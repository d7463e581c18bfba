import fs from 'node:fs';
import path from 'node:path';
import { loadDataset } from '../data/dataset.js';
import { splitExamples } from '../data/split-examples.js';
import { loadFeatures } from '../data/feature-cache.js';
import { engineFor } from '../engine/engine-for.js';
import { packModel } from '../convert/pack.js';
import { writePackedFile } from '../engine/packed-file.js';
import { BeeError } from '../errors.js';
import { evaluateEarlyExit } from '../exits/evaluate.js';
import type { EarlyExitReport } from '../exits/report.js';
import { TfjsClassifier } from '../exits/tfjs-classifier.js';
import { sweep, type SweepRow } from '../exits/sweep.js';
import { PAPER_FEATURES } from '../features/params.js';
import { modelCost } from '../model/costs.js';
import { floatWeightsBytes, loadModelDir } from '../model/saved-model.js';
import { writeSweepFiles } from '../report/sweep-files.js';
import { isSynthesized, synthesizeKeywords, type SynthOptions } from '../synth/keywords.js';
import { DEFAULT_RECIPE } from '../train/recipe.js';
import type { TrainCallbacks } from '../train/run-options.js';
import { train } from '../train/trainer.js';
import { makeDir } from '../util/make-dir.js';

export interface DemoOptions {
  /** everything goes under here: data/, run/, model.bee, sweep/ */
  out: string;
  synth: SynthOptions;
  epochs: number;
  width: number;
  batchSize: number;
  learningRate: number;
  seed: number;
  /** feature cache (default: bee's) */
  cacheDir?: string;
}

export const DEFAULT_DEMO: Omit<DemoOptions, 'out'> = {
  synth: { seed: 1, speakers: 40, takes: 2 },
  // Binary networks learn slowly: 60 epochs of 21 steps (docs/demo.md: measured figures).
  epochs: 60,
  width: 0.5,
  batchSize: 32,
  learningRate: 3e-3,
  seed: 1,
};

/** The thresholds the demo reports (from its sweep, the same numbers bee eval gives). */
export const DEMO_THRESHOLDS = [0.5, 0.7, 0.85, 0.95, 1];
/** The threshold at which the demo times both engines, clip by clip. */
export const DEMO_TIMED_THRESHOLD = 0.85;

export interface DemoCallbacks extends TrainCallbacks {
  /** a stage begins: its name and, for a counted one, how many items it has */
  onStage?(stage: 'synthesize' | 'features' | 'train' | 'evaluate', total?: number): void;
  /** items done in a counted stage */
  onProgress?(done: number): void;
}

export interface DemoResult {
  data: string;
  /** the dataset was already there, synthesized with the same options */
  dataCached: boolean;
  clips: number;
  run: string;
  packed: string;
  sweepFiles: string[];
  testClips: number;
  /** test accuracy of each exit on every clip */
  exitAccuracy: number[];
  thresholds: SweepRow[];
  /** batch-1 early exit at DEMO_TIMED_THRESHOLD, as bee eval reports it */
  timed: { tfjs: EarlyExitReport; packed: EarlyExitReport };
  bytes: { floatWeights: number; packed: number };
  seconds: number;
}

// Marks a directory as bee demo's own: everything in it may be replaced by the next demo.
const MARKER = '.bee-demo';

/**
 * Makes `out` the demo's directory: a new or empty one is marked as the demo's; one that holds
 * anything else must carry the mark, so that no data of the user's is ever replaced.
 */
function claim(out: string): void {
  const stat = fs.statSync(out, { throwIfNoEntry: false });
  if (stat && !stat.isDirectory()) throw new BeeError('is a file, not a directory', { file: out, hint: 'pass another --out' });
  if (stat && !fs.existsSync(path.join(out, MARKER)) && fs.readdirSync(out).length > 0) {
    throw new BeeError('exists and was not made by bee demo: not writing into it', { file: out, hint: 'pass a new or empty --out' });
  }
  makeDir(out, 'demo directory');
  try {
    fs.writeFileSync(path.join(out, MARKER), 'made by bee demo: the next bee demo here replaces what is in it\n');
  } catch (err) {
    throw new BeeError(`cannot write: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: out, hint: 'pass a writable --out' });
  }
}

/**
 * bee's whole job on a synthesized keyword dataset, offline: synthesize it (or reuse the one
 * there), train a small binary early-exit network, sweep its thresholds on the test split, export
 * it packed, and time early exit on both engines. `out` is new, empty, or an earlier demo's, whose
 * run, model and sweep are replaced (its dataset is reused when the options match).
 */
export async function runDemo(options: DemoOptions, callbacks: DemoCallbacks = {}): Promise<DemoResult> {
  const started = performance.now();
  claim(options.out);
  const data = path.join(options.out, 'data');
  const run = path.join(options.out, 'run');
  const packedFile = path.join(options.out, 'model.bee');

  const dataCached = isSynthesized(data, options.synth);
  if (!dataCached) {
    callbacks.onStage?.('synthesize', options.synth.speakers * options.synth.takes * 12);
    synthesizeKeywords(data, options.synth, (done) => callbacks.onProgress?.(done), true);
  }
  const dataset = loadDataset(data);
  callbacks.onStage?.('features', dataset.clips.length);
  const table = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir: options.cacheDir, onProgress: (done) => callbacks.onProgress?.(done) });

  // A fresh run, trained beside the old one and swapped in at the end.
  const fresh = `${run}.tmp`;
  fs.rmSync(fresh, { recursive: true, force: true });
  callbacks.onStage?.('train');
  try {
    const trained = await train({
      dataset,
      table,
      out: fresh,
      options: {
        ...DEFAULT_RECIPE,
        augment: false,
        epochs: options.epochs,
        batchSize: options.batchSize,
        learningRate: options.learningRate,
        exitWeights: [1, 1, 1, 1],
        seed: options.seed,
        precision: 'binary',
        width: options.width,
      },
      callbacks,
    });
    if (trained.stopped) throw new BeeError('interrupted: the earlier run, if any, is kept', { file: run, hint: 'run bee demo again' });
    fs.rmSync(run, { recursive: true, force: true });
    fs.renameSync(fresh, run);
  } finally {
    fs.rmSync(fresh, { recursive: true, force: true });
  }

  const { model, meta, dir } = await loadModelDir(run);
  const examples = splitExamples(table, meta.labels, 'test');
  callbacks.onStage?.('evaluate', 2 * examples.rows.length);
  const macs = modelCost(model).exits.map((e) => e.relativeMacs);
  const { packed } = packModel(model, meta, dir);
  const packedBytes = writePackedFile(packedFile, packed);
  const staged = new TfjsClassifier(model, meta.calibration?.temperatures, meta.network.arch);
  const engine = engineFor(packed);
  const result = sweep(staged.exitOutputs(table, examples.rows), examples.labels, meta.labels, macs);
  const title = `bee demo: ${options.synth.speakers} synthetic speakers, width ${options.width}, ${options.epochs} epochs; test split, ${examples.rows.length} clips`;
  const sweepFiles = writeSweepFiles(path.join(options.out, 'sweep'), { model: dir, split: 'test', samples: examples.rows.length, ...result }, result, title);
  const rule = { criterion: 'max-softmax' as const, thresholds: Array(engine.exits - 1).fill(DEMO_TIMED_THRESHOLD) };
  const tfjs = evaluateEarlyExit(staged, table, examples, meta.labels, rule, macs, (done) => callbacks.onProgress?.(done));
  const fast = evaluateEarlyExit(engine, table, examples, meta.labels, rule, macs, (done) => callbacks.onProgress?.(examples.rows.length + done));
  staged.dispose();
  return {
    data,
    dataCached,
    clips: dataset.clips.length,
    run,
    packed: packedFile,
    sweepFiles,
    testClips: examples.rows.length,
    exitAccuracy: result.exits.map((e) => e.accuracy),
    thresholds: DEMO_THRESHOLDS.map((t) => result.rows.find((r) => r.criterion === 'max-softmax' && r.threshold === t)!),
    timed: { tfjs, packed: fast },
    bytes: { floatWeights: floatWeightsBytes(dir), packed: packedBytes },
    seconds: (performance.now() - started) / 1000,
  };
}
