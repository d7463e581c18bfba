import { type EarlyExitClassifier, type EarlyExitResult, featuresOf, type FeatureRows } from '../spec/classifier.js';
import { neverEarly, type ExitRule } from '../spec/exit-rules.js';
import { averagesExits, type EnsembleMean, headFeatures, type PackedModel } from './format.js';
import { instantiateKernels, type Kernels, softmaxInto } from './wasm-kernels.js';

/**
 * What runs a packed network (its body's: BlockEngine, ResidualEngine; engineFor picks): its labels
 * and exits, each exit's outputs of the last run, and an instance of the kernels of its own.
 * `run` is the hot path (a stream's windows): it reuses its buffers; `classify` and `exitOutputs`
 * are the classifier contract evaluation and prediction use, with copies of what `run` reuses.
 */
export abstract class PackedEngine implements EarlyExitClassifier {
  readonly labels: string[];
  readonly exits: number;
  /** softmax temperature of each exit (from the file; `bee sweep --calibrate` fits them) */
  temperatures: number[];
  /** logits of each exit that ran in the last run, and its answer (softmax), reused from run to run */
  readonly logits: Float64Array[];
  readonly probabilities: Float32Array[];
  /** each exit's own softmax: `probabilities` itself unless the model averages exits (header.ensemble) */
  protected readonly own: Float32Array[];
  private readonly ensemble?: { exits: number[]; mean: EnsembleMean; logits: Float64Array };
  /** each exit's pooled statistics (its dense layers' input) of the last run, once keepStatistics() asked for them */
  statistics?: Float32Array[];
  protected readonly kernels: Kernels;

  constructor(readonly model: PackedModel) {
    const { header } = model;
    const { filters, classes } = header.network;
    this.labels = header.labels;
    this.exits = filters.length;
    this.temperatures = header.temperatures;
    this.logits = filters.map(() => new Float64Array(classes));
    this.probabilities = filters.map(() => new Float32Array(classes));
    this.ensemble = averagesExits(header.ensemble)
      ? { exits: header.ensemble, mean: header.ensembleMean ?? 'arithmetic', logits: new Float64Array(classes) }
      : undefined;
    this.own = this.ensemble ? filters.map(() => new Float32Array(classes)) : this.probabilities;
    this.kernels = instantiateKernels();
  }

  /** From now on, every run keeps each exit's pooled statistics in `statistics`: what new exit heads train on (src/transfer/). */
  keepStatistics(): Float32Array[] {
    const { exitHead, filters } = this.model.header.network;
    this.statistics ??= filters.map((f) => new Float32Array(headFeatures(exitHead) * f));
    return this.statistics;
  }

  /**
   * Exit i's answer from its own softmax (in `own[i]`) and those of the exits just before it, which
   * ran already, as many as the model's ensemble names (Wołczyk et al., "Zero Time Waste", NeurIPS
   * 2021, ensemble the earlier exits' outputs; bee's custom models combine pairs:
   * docs/custom-words.md): the mean of their softmax, or the geometric mean, renormalized, which is
   * the softmax of the mean of their tempered logits.
   */
  protected answer(i: number): void {
    if (!this.ensemble) return;
    const { exits, mean, logits } = this.ensemble;
    const n = exits[i];
    if (mean === 'geometric') {
      logits.fill(0);
      for (let j = i - n + 1; j <= i; j++) for (let c = 0; c < logits.length; c++) logits[c] += this.logits[j][c] / (n * this.temperatures[j]);
      softmaxInto(logits, 1, this.probabilities[i]);
      return;
    }
    const p = this.probabilities[i].fill(0);
    for (let j = i - n + 1; j <= i; j++) {
      const q = this.own[j];
      for (let c = 0; c < p.length; c++) p[c] += q[c] / n;
    }
  }

  /** One clip's log-mel features [frames][mel bins], exit by exit until `rule` says stop; returns the exit (1-based). */
  abstract run(features: Float32Array, rule: ExitRule): number;

  classify(features: Float32Array, rule: ExitRule): EarlyExitResult {
    const started = performance.now();
    const exit = this.run(features, rule);
    const ms = performance.now() - started;
    return { exit, probs: this.probabilities.slice(0, exit).map((p) => p.slice()), ms };
  }

  exitOutputs(table: FeatureRows, rows: number[], what: 'softmax' | 'logits' = 'softmax'): Float32Array[] {
    const classes = this.labels.length;
    const outputs = Array.from({ length: this.exits }, () => new Float32Array(rows.length * classes));
    const never = neverEarly(this.exits);
    rows.forEach((row, i) => {
      this.run(featuresOf(table, row), never);
      for (const [k, out] of outputs.entries()) out.set(what === 'softmax' ? this.probabilities[k] : this.logits[k], i * classes);
    });
    return outputs;
  }

  /** Nothing to free: the kernels' memory goes with the engine. */
  dispose(): void {}
}
