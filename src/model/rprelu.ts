import * as tf from '@tensorflow/tfjs';
import { fusedOps } from '../backend/fused-ops.js';

type Kwargs = Record<string, unknown>;

/**
 * RPReLU (Liu et al. 2020, "ReActNet", eq. 3): y = PReLU(x - gamma_c; beta_c) + zeta_c, a PReLU
 * whose kink moves per channel (gamma) and whose output moves too (zeta). After a binary
 * convolution's BatchNorm and shortcut it reshapes the real-valued distribution that the next
 * sign reads. Slopes start at 0.25 (PReLU's usual start), shifts at 0.
 */
export class RPReLU extends tf.layers.Layer {
  static readonly className = 'RPReLU';
  private gamma!: tf.LayerVariable;
  private slope!: tf.LayerVariable;
  private zeta!: tf.LayerVariable;

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    const channels = [shape[shape.length - 1]!];
    this.gamma = this.addWeight('gamma', channels, 'float32', tf.initializers.zeros());
    this.slope = this.addWeight('slope', channels, 'float32', tf.initializers.constant({ value: 0.25 }));
    this.zeta = this.addWeight('zeta', channels, 'float32', tf.initializers.zeros());
    this.built = true;
  }

  /** The kink's shift, the slope below it and the output's shift, as variables. */
  get parameters(): { gamma: tf.Variable; slope: tf.Variable; zeta: tf.Variable } {
    return { gamma: this.gamma.read() as tf.Variable, slope: this.slope.read() as tf.Variable, zeta: this.zeta.read() as tf.Variable };
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const fused = fusedOps();
      if (fused) return fused.rprelu(x, this.gamma.read() as tf.Tensor1D, this.slope.read() as tf.Tensor1D, this.zeta.read() as tf.Tensor1D);
      return tf.add(tf.prelu(tf.sub(x, this.gamma.read()), this.slope.read()), this.zeta.read());
    });
  }
}
tf.serialization.registerClass(RPReLU as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
