import * as tf from '@tensorflow/tfjs';

export interface ExitMetrics {
  /** mean cross-entropy of each exit */
  loss: number[];
  /** accuracy of each exit on every example (the full network, no early exit) */
  accuracy: number[];
}

/**
 * Every exit's loss and accuracy on some rows of a feature matrix (one row per clip), in inference
 * mode, in batches.
 */
export function exitMetrics(
  model: tf.LayersModel,
  features: tf.Tensor2D,
  rows: number[],
  labels: Int32Array,
  inputShape: number[],
  classes: number,
  batchSize = 256,
): ExitMetrics {
  const exits = model.outputs.length;
  const sums = new Float64Array(2 * exits);
  for (let at = 0; at < rows.length; at += batchSize) {
    const batch = rows.slice(at, at + batchSize);
    const batchLabels = labels.subarray(at, at + batch.length);
    const values = tf.tidy(() => {
      const x = tf.reshape(tf.gather(features, Int32Array.from(batch)), [batch.length, ...inputShape]);
      const idx = tf.tensor1d(batchLabels, 'int32');
      const y = tf.oneHot(idx, classes);
      const outs = model.apply(x, { training: false }) as tf.Tensor[];
      const losses = outs.map((o) => tf.mul(tf.losses.softmaxCrossEntropy(y, o), batch.length));
      const correct = outs.map((o) => tf.sum(tf.cast(tf.equal(tf.argMax(o, 1), idx), 'float32')));
      return tf.stack([...losses, ...correct]).dataSync();
    });
    for (const [i, v] of values.entries()) sums[i] += v;
  }
  const n = Math.max(rows.length, 1);
  return { loss: Array.from(sums.subarray(0, exits), (v) => v / n), accuracy: Array.from(sums.subarray(exits), (v) => v / n) };
}
