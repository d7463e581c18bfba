import type { ExitRule } from '../spec/exit-rules.js';
import type { PackedModel } from './format.js';
import { instantiateKernels, type Kernels } from './wasm-kernels.js';

/** What runs a packed network (BlockEngine, ResidualEngine): its labels and exits, each exit's outputs of the last run, and an instance of the kernels of its own. */
export abstract class Engine {
  readonly labels: string[];
  readonly exits: number;
  /** softmax temperature of each exit (from the file; `bee sweep --calibrate` fits them) */
  temperatures: number[];
  /** logits and softmax of each exit that ran in the last run, reused from run to run */
  readonly logits: Float64Array[];
  readonly probabilities: Float32Array[];
  protected readonly kernels: Kernels;

  constructor(readonly model: PackedModel) {
    const { header } = model;
    const { filters, classes } = header.network;
    this.labels = header.labels;
    this.exits = filters.length;
    this.temperatures = header.temperatures;
    this.logits = filters.map(() => new Float64Array(classes));
    this.probabilities = filters.map(() => new Float32Array(classes));
    this.kernels = instantiateKernels();
  }

  /** One clip's log-mel features [frames][mel bins], exit by exit until `rule` says stop; returns the exit (1-based). */
  abstract run(features: Float32Array, rule: ExitRule): number;
}
