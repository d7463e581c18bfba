import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import { wireBlock } from '../model/network.js';
import { shouldExit, type ExitRule } from './rules.js';

export interface EarlyExitResult {
  /** 1-based exit that answered */
  exit: number;
  /** softmax of every exit that ran, in order */
  probs: Float32Array[];
  /** wall time of the path, feature tensor to decision, in ms */
  ms: number;
}

/**
 * A trained early-exit network cut into its blocks: stage k maps block k's input to exit k's
 * logits and block k+1's input. Early-exit inference runs stage after stage on one example and
 * stops at the first confident exit, so only the blocks actually needed are computed.
 */
export class StagedModel {
  private readonly stages: tf.LayersModel[];
  /** Softmax temperature of each exit (1: as trained; `bee sweep --calibrate` fits them). */
  temperatures: number[];

  constructor(
    readonly model: tf.LayersModel,
    temperatures?: number[],
  ) {
    this.temperatures = temperatures ?? model.outputs.map(() => 1);
    if (this.temperatures.length !== model.outputs.length || !this.temperatures.every((t) => Number.isFinite(t) && t > 0)) {
      throw new BeeError(`calibration temperatures must be ${model.outputs.length} numbers > 0, got ${JSON.stringify(temperatures)}`, {
        hint: 'rerun bee sweep --calibrate, or remove "calibration" from the model\'s bee.json',
      });
    }
    const blocks = model.outputs.length;
    let shape = model.inputs[0].shape.slice(1) as number[];
    this.stages = [];
    for (let b = 1; b <= blocks; b++) {
      const input = tf.input({ shape });
      const { logits, next } = wireBlock((name) => model.getLayer(name), b, input, b === blocks);
      this.stages.push(tf.model({ inputs: input, outputs: next ? [logits, next] : [logits] }));
      if (next) shape = next.shape.slice(1) as number[];
    }
  }

  get exits(): number {
    return this.stages.length;
  }

  /** Runs one example (shape [1, frames, mel bins, 1]) block by block until the rule says stop. */
  run(x: tf.Tensor, rule: ExitRule): EarlyExitResult {
    const started = performance.now();
    const probs: Float32Array[] = [];
    let input = x;
    for (let k = 1; k <= this.stages.length; k++) {
      const out = this.stages[k - 1].apply(input, { training: false }) as tf.Tensor | tf.Tensor[];
      const outputs = Array.isArray(out) ? out : [out];
      const p = tf.tidy(() => tf.softmax(tf.div(outputs[0], this.temperatures[k - 1])).dataSync() as Float32Array);
      outputs[0].dispose();
      if (input !== x) input.dispose();
      probs.push(p);
      if (shouldExit(p, k, this.stages.length, rule)) {
        tf.dispose(outputs.slice(1));
        return { exit: k, probs, ms: performance.now() - started };
      }
      input = outputs[1];
    }
    throw new Error('the last exit always answers');
  }

  /** Every exit's softmax for a batch (the full network), row-major: [exit][example * classes]. */
  allExits(x: tf.Tensor): Float32Array[] {
    return tf.tidy(() => (this.model.apply(x, { training: false }) as tf.Tensor[]).map((logits, k) => tf.softmax(tf.div(logits, this.temperatures[k])).dataSync() as Float32Array));
  }

  /** Every exit's logits for a batch, as allExits. */
  allLogits(x: tf.Tensor): Float32Array[] {
    return tf.tidy(() => (this.model.apply(x, { training: false }) as tf.Tensor[]).map((logits) => logits.dataSync() as Float32Array));
  }

  dispose(): void {
    this.model.dispose();
  }
}
