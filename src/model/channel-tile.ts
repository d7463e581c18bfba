import * as tf from '@tensorflow/tfjs';

type Kwargs = Record<string, unknown>;

/**
 * x's channels repeated `times` times, as one tile of a [..., 1, C] view; the gradient sums the
 * copies in one reduction (concat's gradient would split dy into copies and add them one by one).
 */
const repeatChannels = (x: tf.Tensor, times: number): tf.Tensor =>
  tf.customGrad((input) => {
    const t = input as tf.Tensor;
    const c = t.shape.at(-1)!;
    const lead = t.shape.slice(0, -1);
    const ones = lead.map(() => 1);
    return {
      value: tf.reshape(tf.tile(tf.reshape(t, [...lead, 1, c]), [...ones, times, 1]), [...lead, times * c]),
      gradFunc: (dy) => tf.sum(tf.reshape(dy as tf.Tensor, [...lead, times, c]), lead.length),
    };
  })(x);

/**
 * Repeats the input's C channels to `channels`: y[..., j] = x[..., j % C]. ReActNet's downsampling
 * shortcut (Liu et al. 2020, fig. 4): the average-pooled input, duplicated to the doubled width,
 * so that the real path past a widening binary convolution needs no weights and no float MACs.
 */
export class ChannelTile extends tf.layers.Layer {
  static readonly className = 'ChannelTile';
  readonly channels: number;

  constructor(args: { channels: number; name?: string }) {
    super({ name: args.name });
    this.channels = args.channels;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.channels];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = Array.isArray(inputs) ? inputs[0] : inputs;
      const c = x.shape.at(-1)!;
      if (this.channels % c === 0) return repeatChannels(x, this.channels / c);
      const copies = tf.concat(
        Array.from({ length: Math.ceil(this.channels / c) }, () => x),
        -1,
      );
      return tf.slice(copies, Array(x.rank).fill(0), [...x.shape.slice(0, -1), this.channels]);
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), channels: this.channels };
  }
}
tf.serialization.registerClass(ChannelTile as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
