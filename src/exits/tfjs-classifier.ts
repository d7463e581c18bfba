import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import { type ArchName, wireBlock } from '../model/network.js';
import { joinExitOutputs, type EarlyExitClassifier, type EarlyExitResult, type FeatureRows } from '../spec/classifier.js';
import { shouldExit, type ExitRule } from '../spec/exit-rules.js';

/**
 * The tfjs model as an early-exit classifier (the packed engine is the other): the trained
 * network cut into its blocks, stage k maps block k's input to exit k's
 * logits and block k+1's input. Early-exit inference runs stage after stage on one example and
 * stops at the first confident exit, so only the blocks actually needed are computed.
 */
export class TfjsClassifier implements EarlyExitClassifier {
  private readonly stages: tf.LayersModel[];
  /** Softmax temperature of each exit (1: as trained; `bee sweep --calibrate` fits them). */
  temperatures: number[];

  constructor(
    readonly model: tf.LayersModel,
    temperatures: number[] | undefined,
    arch: ArchName,
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
      const { logits, next } = wireBlock(arch, (name) => model.layers.find((l) => l.name === name), b, input, b === blocks);
      this.stages.push(tf.model({ inputs: input, outputs: next ? [logits, next] : [logits] }));
      if (next) shape = next.shape.slice(1) as number[];
    }
  }

  get exits(): number {
    return this.stages.length;
  }

  classify(features: Float32Array, rule: ExitRule): EarlyExitResult {
    const started = performance.now();
    const probs: Float32Array[] = [];
    let input: tf.Tensor = tf.tensor4d(features, [1, ...(this.model.inputs[0].shape.slice(1) as [number, number, number])]);
    for (let k = 1; k <= this.stages.length; k++) {
      const out = this.stages[k - 1].apply(input, { training: false }) as tf.Tensor | tf.Tensor[];
      const outputs = Array.isArray(out) ? out : [out];
      const p = tf.tidy(() => tf.softmax(tf.div(outputs[0], this.temperatures[k - 1])).dataSync() as Float32Array);
      outputs[0].dispose();
      input.dispose();
      probs.push(p);
      if (shouldExit(p, k, this.stages.length, rule)) {
        tf.dispose(outputs.slice(1));
        return { exit: k, probs, ms: performance.now() - started };
      }
      input = outputs[1];
    }
    throw new Error('the last exit always answers');
  }

  exitOutputs(table: FeatureRows, rows: number[], what: 'softmax' | 'logits' = 'softmax', batchSize = 256): Float32Array[] {
    const size = table.frames * table.melBins;
    const parts: Float32Array[][] = [];
    for (let at = 0; at < rows.length; at += batchSize) {
      const batch = rows.slice(at, at + batchSize);
      const data = new Float32Array(batch.length * size);
      for (const [i, r] of batch.entries()) data.set(table.features.subarray(r * size, (r + 1) * size), i * size);
      parts.push(
        tf.tidy(() =>
          (this.model.apply(tf.tensor4d(data, [batch.length, table.frames, table.melBins, 1]), { training: false }) as tf.Tensor[]).map(
            (logits, k) => (what === 'softmax' ? tf.softmax(tf.div(logits, this.temperatures[k])) : logits).dataSync() as Float32Array,
          ),
        ),
      );
    }
    return joinExitOutputs(parts, this.exits);
  }

  dispose(): void {
    this.model.dispose();
  }
}
