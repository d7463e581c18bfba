import * as tf from '@tensorflow/tfjs';
import { nativeOps } from '../backend/native-ops.js';

type Kwargs = Record<string, unknown>;

interface BatchStats {
  y: tf.Tensor;
  mean: tf.Tensor1D;
  /** unbiased (Bessel-corrected), as Keras feeds its moving variance */
  variance: tf.Tensor1D;
}

/** TensorFlow's fused BatchNorm in training mode, forward and backward, as ops on the native backend. */
export interface FusedBatchNormOps {
  /** y and the batch's statistics; `saved` is what `backward` needs */
  forward(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D): BatchStats & { saved: tf.Tensor[] };
  /** [dx, dgamma, dbeta] */
  backward(dy: tf.Tensor, saved: tf.Tensor[]): tf.Tensor[];
}

/**
 * One FusedBatchNormV3 op forward and one FusedBatchNormGradV3 op backward, on native TensorFlow;
 * undefined elsewhere. Composed from tfjs ops, the backward pass alone is a dozen full-size
 * elementwise ops and dominated the training step.
 */
export function fusedBatchNormOps(epsilon: number): FusedBatchNormOps | undefined {
  const ops = nativeOps();
  if (!ops) return undefined;
  const attrs = [ops.float32('T'), ops.float32('U'), ops.float('epsilon', epsilon), ops.string('data_format', 'NHWC'), ops.bool('is_training', true)];
  return {
    forward(x, gamma, beta) {
      const empty = tf.tensor1d([]);
      const [y, mean, variance, r1, r2, r3] = ops.run(
        'FusedBatchNormV3',
        [...attrs, ops.float('exponential_avg_factor', 1)],
        [x, gamma, beta, empty, empty],
        6,
      );
      empty.dispose();
      return { y, mean: mean as tf.Tensor1D, variance: variance as tf.Tensor1D, saved: [x, gamma, r1, r2, r3] };
    },
    backward: (dy, saved) => ops.run('FusedBatchNormGradV3', attrs, [dy, ...saved], 5).slice(0, 3),
  };
}

/** Batch normalization of an NHWC tensor with the batch's own statistics, differentiable in x, gamma and beta. */
function normalizeInTraining(x: tf.Tensor4D, gamma: tf.Tensor1D, beta: tf.Tensor1D, epsilon: number): BatchStats {
  const fused = fusedBatchNormOps(epsilon);
  if (!fused) {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    const n = x.size / x.shape[3];
    const y = tf.batchNorm(x, mean, variance, beta, gamma, epsilon);
    return { y, mean: mean as tf.Tensor1D, variance: tf.mul(variance, n / Math.max(n - 1, 1)) as tf.Tensor1D };
  }
  let mean!: tf.Tensor1D;
  let variance!: tf.Tensor1D;
  const f = tf.customGrad((xIn, gIn, bIn, save) => {
    const out = fused.forward(xIn as tf.Tensor4D, gIn as tf.Tensor1D, bIn as tf.Tensor1D);
    // customGrad disposes what its forward function neither returns nor saves.
    mean = tf.keep(out.mean);
    variance = tf.keep(out.variance);
    (save as tf.GradSaveFunc)(out.saved);
    return { value: out.y, gradFunc: (dy: tf.Tensor | tf.Tensor[], saved: tf.Tensor[]) => fused.backward(dy as tf.Tensor, saved) };
  });
  const y = f(x, gamma, beta);
  return { y, mean, variance };
}

export interface BatchNormArgs {
  momentum?: number;
  epsilon?: number;
  name?: string;
}

/**
 * BatchNormalization over the last axis of NHWC (or NC) inputs, with Keras's defaults (momentum
 * 0.99, epsilon 1e-3) and moving statistics updated in training calls; fused on native TensorFlow.
 */
export class BatchNorm extends tf.layers.Layer {
  static readonly className = 'BeeBatchNorm';
  readonly momentum: number;
  readonly epsilon: number;
  private gamma!: tf.LayerVariable;
  private beta!: tf.LayerVariable;
  private movingMean!: tf.LayerVariable;
  private movingVariance!: tf.LayerVariable;

  constructor(args: BatchNormArgs = {}) {
    super({ name: args.name });
    this.momentum = args.momentum ?? 0.99;
    this.epsilon = args.epsilon ?? 1e-3;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = [shape[shape.length - 1]!];
    this.gamma = this.addWeight('gamma', channels, 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', channels, 'float32', tf.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', channels, 'float32', tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', channels, 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = Array.isArray(inputs) ? inputs[0] : inputs;
    const gamma = this.gamma.read() as tf.Tensor1D;
    const beta = this.beta.read() as tf.Tensor1D;
    if (!kwargs.training) {
      return tf.tidy(() => {
        const { scale, shift } = this.inferenceAffine();
        return tf.add(tf.mul(x, scale), shift);
      });
    }
    const x4 = x.rank === 4 ? (x as tf.Tensor4D) : (x.reshape([x.shape[0], 1, 1, x.shape[x.rank - 1]]) as tf.Tensor4D);
    const { y, mean, variance } = normalizeInTraining(x4, gamma, beta, this.epsilon);
    this.updateMovingStatistics(mean, variance);
    mean.dispose();
    variance.dispose();
    return x.rank === 4 ? y : y.reshape(x.shape);
  }

  /** Moves the moving statistics toward a training batch's (Keras's update, momentum as configured). */
  updateMovingStatistics(mean: tf.Tensor1D, variance: tf.Tensor1D): void {
    tf.tidy(() => {
      const decay = 1 - this.momentum;
      this.movingMean.write(tf.sub(this.movingMean.read(), tf.mul(tf.sub(this.movingMean.read(), mean), decay)));
      this.movingVariance.write(tf.sub(this.movingVariance.read(), tf.mul(tf.sub(this.movingVariance.read(), variance), decay)));
    });
  }

  /** The trainable scale and shift, as variables (a fused training path computes with them). */
  get affine(): { gamma: tf.Variable; beta: tf.Variable } {
    return { gamma: this.gamma.read() as tf.Variable, beta: this.beta.read() as tf.Variable };
  }

  /**
   * The BatchNorm at inference as y = x * scale + shift per channel, scale = gamma / sqrt(moving
   * variance + epsilon) and shift = beta - moving mean * scale: one float32 multiply, then one add,
   * each rounded. This is what inference computes (not TensorFlow's fused kernel, whose oneDNN
   * arithmetic is its own: an FMA at its end), so that the packed engines, which read these very
   * tensors, compute the same bits with plain float32 operations.
   */
  inferenceAffine(): { scale: tf.Tensor1D; shift: tf.Tensor1D } {
    return tf.tidy(() => {
      const scale = tf.mul(this.gamma.read(), tf.rsqrt(tf.add(this.movingVariance.read(), this.epsilon))) as tf.Tensor1D;
      return { scale, shift: tf.sub(this.beta.read(), tf.mul(this.movingMean.read(), scale)) as tf.Tensor1D };
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), momentum: this.momentum, epsilon: this.epsilon };
  }
}
tf.serialization.registerClass(BatchNorm as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
