import * as tf from '@tensorflow/tfjs';
import type { ArchName } from '../model/network.js';
import { distillationLoss } from './distill.js';
import { trainingForward } from './training-forward.js';

export interface DistillOptions {
  weight: number;
  temperature: number;
  /** a model whose last exit teaches every exit; without one, the network's own last exit teaches the others */
  teacher?: tf.LayersModel;
}

export interface StepOptions {
  /** the network's family: with it, the forward pass fuses what it can (trainingForward); without, the model's own apply */
  arch?: ArchName;
  distill?: DistillOptions;
  /** one per class, > 0 */
  classWeights?: number[];
}

/**
 * One optimization step on a batch: forward in training mode, the loss
 *   sum over exits k of w_k * (cross-entropy_k + distill * T^2 * KL(teacher || exit k)),
 * Adam, the weight clip. With `classWeights` (one per class, > 0), each example's cross-entropy
 * is multiplied by its class's weight before the batch's mean (Keras's class_weight). Self-distillation (no teacher model) teaches exits 1..K-1 with exit K's
 * softened output, which gets no gradient from it. Returns [loss, cross-entropy of exit 1-K,
 * correct at exit 1-K], read back in one transfer.
 */
export function trainStep(
  model: tf.LayersModel,
  optimizer: tf.Optimizer,
  classes: number,
  { arch, distill, classWeights }: StepOptions = {},
): (x: tf.Tensor, labels: Int32Array, exitWeights: number[]) => Float32Array {
  const forward = arch ? trainingForward(model, arch) : (x: tf.Tensor) => model.apply(x, { training: true }) as tf.Tensor[];
  const varList = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const perClass = classWeights?.some((w) => w !== 1) ? tf.keep(tf.tensor1d(classWeights)) : undefined;
  const constrained = model.trainableWeights.filter((w) => w.constraint != null);
  return (x, labels, exitWeights) =>
    tf.tidy(() => {
      const yIndex = tf.tensor1d(labels, 'int32');
      const y = tf.oneHot(yIndex, classes);
      const weights = perClass ? tf.gather(perClass, yIndex) : undefined;
      const external = distill?.teacher ? (distill.teacher.apply(x, { training: false }) as tf.Tensor[]).at(-1)! : undefined;
      let parts: tf.Tensor[] = [];
      const cost = optimizer.minimize(
        () => {
          const outs = forward(x);
          const losses = outs.map((o) => tf.losses.softmaxCrossEntropy(y, o, weights));
          const correct = outs.map((o) => tf.sum(tf.cast(tf.equal(tf.argMax(o, 1), yIndex), 'float32')));
          parts = [...losses, ...correct].map((t) => tf.keep(t));
          const teacher = external ?? outs.at(-1)!;
          const terms = losses.map((l, k) => {
            const taught = distill && (external || k < outs.length - 1);
            return tf.mul(taught ? tf.add(l, tf.mul(distillationLoss(teacher, outs[k], distill.temperature), distill.weight)) : l, exitWeights[k]);
          });
          return tf.addN(terms) as tf.Scalar;
        },
        true,
        varList,
      )!;
      for (const w of constrained) (w.read() as tf.Variable).assign(w.constraint.apply(w.read()));
      const stats = tf.stack([cost, ...parts]).dataSync() as Float32Array;
      tf.dispose(parts);
      return stats;
    });
}
