import * as tf from '@tensorflow/tfjs';

// tfjs-layers does not export its Constraint base class; every built-in constraint extends it.
const Constraint = Object.getPrototypeOf(tf.constraints.nonNeg().constructor) as {
  new (): { apply(w: tf.Tensor): tf.Tensor; getConfig(): tf.serialization.ConfigDict };
};

/**
 * Clips weights to [-clipValue, clipValue] (Larq's `weight_clip`): latent weights of a binary
 * kernel far outside the sign's linear region would get no gradient through the STE and freeze.
 */
export class WeightClip extends Constraint {
  static readonly className = 'WeightClip';
  readonly clipValue: number;

  constructor(config: { clipValue?: number } = {}) {
    super();
    this.clipValue = config.clipValue ?? 1;
  }

  override apply(w: tf.Tensor): tf.Tensor {
    return tf.clipByValue(w, -this.clipValue, this.clipValue);
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { clipValue: this.clipValue };
  }
}
tf.serialization.registerClass(WeightClip as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
