import * as tf from '@tensorflow/tfjs';
import { cellOf, cellSizes, pooledFeatures } from '../spec/exit-grid.js';

type Kwargs = Record<string, unknown>;

export interface ExitPoolingArgs {
  /** cells along time (rows) and frequency (columns) */
  grid: [number, number];
  name?: string;
}

/**
 * a x b for a constant a: b's gradient as tfjs's matMul gradient computes it, none for a (tfjs
 * would compute one, a product the size of the batch's maps, and drop it).
 */
const averaged = tf.customGrad((aIn, bIn, save) => {
  const [a, b] = [aIn, bIn] as tf.Tensor3D[];
  (save as tf.GradSaveFunc)([a]);
  return { value: tf.matMul(a, b), gradFunc: (dy, [sa]) => [tf.zerosLike(sa), tf.matMul(sa as tf.Tensor3D, dy as tf.Tensor3D, true, false)] };
}) as (a: tf.Tensor3D, b: tf.Tensor3D) => tf.Tensor3D;

/**
 * The pooled exit head's pooling: per channel the global max (the paper's head), the global mean,
 * and the mean of every cell of a time x frequency grid, [batch, C * (2 + cells)] laid out as
 * runs of C values (src/model/exit-grid.ts). Max keeps "is the pattern anywhere", the means keep
 * "how much of it" and roughly where: an early block's features are local, and a max alone throws
 * away most of what they say (SDN's mixed max/avg pooling makes the same point).
 *
 * The means are one matrix product with a fixed [1 + cells, H * W] averaging matrix.
 */
export class ExitPooling extends tf.layers.Layer {
  static readonly className = 'ExitPooling';
  readonly grid: [number, number];
  private averaging?: tf.Tensor2D;

  constructor(args: ExitPoolingArgs) {
    super({ name: args.name });
    this.grid = [args.grid[0], args.grid[1]];
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const [, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as number[];
    const rows = cellOf(h, this.grid[0]);
    const cols = cellOf(w, this.grid[1]);
    const cells = this.grid[0] * this.grid[1];
    const sizes = cellSizes(h, w, this.grid);
    const matrix = new Float32Array((1 + cells) * h * w);
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const p = i * w + j;
        const cell = rows[i] * this.grid[1] + cols[j];
        matrix[p] = 1 / (h * w);
        matrix[(1 + cell) * h * w + p] = 1 / sizes[cell];
      }
    }
    this.averaging = tf.keep(tf.tensor2d(matrix, [1 + cells, h * w]));
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [shape[0], (shape[3] as number) * pooledFeatures(this.grid)];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = (Array.isArray(inputs) ? inputs[0] : inputs) as tf.Tensor4D;
      const [n, h, w, c] = x.shape;
      const max = tf.max(x, [1, 2]);
      if (kwargs.training) {
        // [1, 1 + cells, h*w] x [n, h*w, c] -> [n, (1 + cells) * c]: no transposes (training's
        // sums may round apart from inference's in the last bit; the packed engines follow inference)
        const means = averaged(tf.expandDims(this.averaging!, 0), tf.reshape(x, [n, h * w, c]));
        return tf.concat([max, tf.reshape(means, [n, -1])], 1);
      }
      // [n, h*w, c] -> [h*w, n*c], averaged -> [1 + cells, n*c] -> [n, (1 + cells) * c]
      const positions = tf.reshape(tf.transpose(tf.reshape(x, [n, h * w, c]), [1, 0, 2]), [h * w, n * c]);
      const means = tf.matMul(this.averaging!, positions);
      const perExample = tf.reshape(tf.transpose(tf.reshape(means, [-1, n, c]), [1, 0, 2]), [n, -1]);
      return tf.concat([max, perExample], 1);
    });
  }

  override dispose(): ReturnType<tf.layers.Layer['dispose']> {
    const result = super.dispose();
    if (result.refCountAfterDispose === 0) this.averaging?.dispose();
    return result;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), grid: this.grid };
  }
}
tf.serialization.registerClass(ExitPooling as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
