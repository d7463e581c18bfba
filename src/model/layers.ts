import * as tf from '@tensorflow/tfjs';
import { fusedOps } from '../backend/fused-ops.js';
import { WeightClip } from './constraints.js';
import {
  type Quantizer,
  type QuantizerName,
  type QuantizerSpec,
  quantizer,
  quantizerSpec,
  type SerializedQuantizer,
  serializeQuantizer,
  kernelFactors,
} from './quantizers.js';

type Kwargs = Record<string, unknown>;

/** A quantizer as a layer takes it: a name (Larq's default parameters), a spec, or its serialized form. */
export type QuantizerArg = QuantizerName | QuantizerSpec | SerializedQuantizer;

const specOf = (arg: QuantizerArg | null | undefined) => (arg == null ? null : quantizerSpec(arg));

interface QuantArgs {
  /** Applied to the layer's input; null lets real values through. */
  inputQuantizer?: QuantizerArg | null;
  /** Applied to the kernel at every call; the latent real-valued kernel is what trains. */
  kernelQuantizer?: QuantizerArg | null;
  /** Clip the latent kernel to [-kernelClip, kernelClip] after every update (Larq's weight_clip). */
  kernelClip?: number | null;
  useBias?: boolean;
  /** Seed of the kernel's Glorot-uniform initializer, for reproducible runs. */
  seed?: number | null;
}

export interface QuantConv2DArgs extends QuantArgs {
  filters: number;
  kernelSize: [number, number];
  padding?: 'same' | 'valid';
  name?: string;
  trainable?: boolean;
}

export interface QuantDenseArgs extends QuantArgs {
  units: number;
  name?: string;
  trainable?: boolean;
}

const one = (inputs: tf.Tensor | tf.Tensor[]) => (Array.isArray(inputs) ? inputs[0] : inputs);

/** What QuantConv2D and QuantDense share: quantizers, the clipped kernel, the bias. */
abstract class QuantLayer extends tf.layers.Layer {
  readonly inputQuantizer: QuantizerSpec | null;
  readonly kernelQuantizer: QuantizerSpec | null;
  protected readonly inputQ?: Quantizer;
  protected readonly kernelQ?: Quantizer;
  protected readonly kernelClip: number | null;
  protected readonly useBias: boolean;
  protected readonly seed: number | null;
  protected kernel!: tf.LayerVariable;
  protected bias?: tf.LayerVariable;

  constructor(args: QuantArgs & { name?: string; trainable?: boolean }) {
    super({ name: args.name, trainable: args.trainable });
    this.inputQuantizer = specOf(args.inputQuantizer);
    this.kernelQuantizer = specOf(args.kernelQuantizer);
    this.inputQ = quantizer(this.inputQuantizer);
    this.kernelQ = quantizer(this.kernelQuantizer);
    this.kernelClip = args.kernelClip ?? null;
    this.useBias = args.useBias ?? false;
    this.seed = args.seed ?? null;
  }

  protected addKernelAndBias(kernelShape: number[], units: number): void {
    const init = tf.initializers.glorotUniform(this.seed == null ? {} : { seed: this.seed });
    const clip = this.kernelClip == null ? undefined : new WeightClip({ clipValue: this.kernelClip });
    // tfjs-layers types its constraint parameter with its own (unexported) Constraint class.
    this.kernel = this.addWeight('kernel', kernelShape, 'float32', init, undefined, true, clip as never);
    if (this.useBias) this.bias = this.addWeight('bias', [units], 'float32', tf.initializers.zeros());
  }

  /** The input as the layer computes with it (quantized where configured). */
  protected quantizedInput(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    const input = one(inputs);
    return this.inputQ ? this.inputQ(input) : input;
  }

  /**
   * The input and the kernel as the layer computes with them at inference (quantized where
   * configured); a magnitude-aware kernel as its signs and its scale alpha, which `scaled` applies
   * to the product.
   */
  protected quantized(inputs: tf.Tensor | tf.Tensor[]): { x: tf.Tensor; kernel: tf.Tensor; alpha: tf.Tensor | null } {
    const x = this.quantizedInput(inputs);
    const k = this.kernel.read();
    const factors = kernelFactors(this.kernelQuantizer, k);
    if (factors) return { x, kernel: factors.signs, alpha: factors.alpha };
    return { x, kernel: this.kernelQ ? this.kernelQ(k) : k, alpha: null };
  }

  /**
   * The kernel as training convolves with it: alpha applied to the signs, not to the product (a
   * few thousand products instead of a pass over the output forward and one backward; the sum then
   * rounds at every step instead of once, a last-bit difference that the BatchNorm after it absorbs,
   * while inference keeps the exact order). From bee's fused kernels where they run: two ops instead
   * of some twenty tiny ones per layer and step.
   */
  trainingKernel(): tf.Tensor {
    const fused = fusedOps();
    const spec = this.kernelQuantizer;
    const w = this.kernel.read();
    if (fused && spec?.name === 'magnitude_aware_sign') return fused.scaledSign(w, spec.clipValue);
    if (fused && spec?.name === 'ste_sign') return fused.steSign(w, undefined, spec.clipValue);
    const factors = kernelFactors(spec, w);
    if (factors) return this.scaled(factors.signs, factors.alpha);
    return this.kernelQ ? this.kernelQ(w) : w;
  }

  protected scaled(y: tf.Tensor, alpha: tf.Tensor | null): tf.Tensor {
    return alpha ? tf.mul(y, alpha) : y;
  }

  protected addBias(y: tf.Tensor): tf.Tensor {
    return this.bias ? tf.add(y, this.bias.read()) : y;
  }

  /** Whether the kernel is binary (quantized to ±1) in the forward pass. */
  get binaryKernel(): boolean {
    return this.kernelQuantizer !== null;
  }

  get binaryInput(): boolean {
    return this.inputQuantizer !== null;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return {
      ...super.getConfig(),
      inputQuantizer: this.inputQuantizer && (serializeQuantizer(this.inputQuantizer) as unknown as tf.serialization.ConfigDict),
      kernelQuantizer: this.kernelQuantizer && (serializeQuantizer(this.kernelQuantizer) as unknown as tf.serialization.ConfigDict),
      kernelClip: this.kernelClip,
      useBias: this.useBias,
      seed: this.seed,
    };
  }
}

/**
 * A (kh x kw) convolution (stride 1) of a one-channel input as a sum of shifted products: taps in
 * row-major order, each product and each sum rounded in float32. TensorFlow's convolution fuses
 * them (an FMA per tap); this order is the one the packed engines use on the real-valued log-mel.
 */
function tapConv(x: tf.Tensor4D, kernel: tf.Tensor4D, padding: 'same' | 'valid'): tf.Tensor4D {
  const [kh, kw, , filters] = kernel.shape;
  const before = (k: number) => (k - 1) >> 1;
  const padded =
    padding === 'same'
      ? tf.pad(x, [
          [0, 0],
          [before(kh), kh - 1 - before(kh)],
          [before(kw), kw - 1 - before(kw)],
          [0, 0],
        ])
      : x;
  const [n, height, width] = [padded.shape[0], padded.shape[1] - kh + 1, padded.shape[2] - kw + 1];
  let sum: tf.Tensor4D | null = null;
  for (let i = 0; i < kh; i++) {
    for (let j = 0; j < kw; j++) {
      const tap = tf.reshape(tf.slice(kernel, [i, j, 0, 0], [1, 1, 1, filters]), [filters]);
      const product = tf.mul(tf.slice(padded, [0, i, j, 0], [n, height, width, 1]), tap) as tf.Tensor4D;
      sum = sum ? (tf.add(sum, product) as tf.Tensor4D) : product;
    }
  }
  return sum!;
}

/**
 * A 2-D convolution (stride 1) with quantized input and kernel: Larq's QuantConv2D. At inference
 * a one-channel input (the log-mel) is convolved tap by tap (tapConv), in the order the packed
 * engines reproduce; training uses TensorFlow's convolution, the same sum to within float32 ulps.
 */
export class QuantConv2D extends QuantLayer {
  static readonly className = 'QuantConv2D';
  readonly filters: number;
  readonly kernelSize: [number, number];
  readonly padding: 'same' | 'valid';

  constructor(args: QuantConv2DArgs) {
    super(args);
    this.filters = args.filters;
    this.kernelSize = [args.kernelSize[0], args.kernelSize[1]];
    this.padding = args.padding ?? 'same';
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    this.addKernelAndBias([...this.kernelSize, shape[3]!, this.filters], this.filters);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (this.padding === 'same') return [n, h, w, this.filters];
    return [n, h! - this.kernelSize[0] + 1, w! - this.kernelSize[1] + 1, this.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      if (kwargs.training) {
        return this.addBias(tf.conv2d(this.quantizedInput(inputs) as tf.Tensor4D, this.trainingKernel() as tf.Tensor4D, 1, this.padding));
      }
      const { x, kernel, alpha } = this.quantized(inputs);
      if (x.shape[3] === 1) {
        return this.addBias(tapConv(x as tf.Tensor4D, this.scaled(kernel, alpha) as tf.Tensor4D, this.padding));
      }
      return this.addBias(this.scaled(tf.conv2d(x as tf.Tensor4D, kernel as tf.Tensor4D, 1, this.padding), alpha));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), filters: this.filters, kernelSize: this.kernelSize, padding: this.padding };
  }
}

/** A dense layer with quantized input and kernel: Larq's QuantDense. */
export class QuantDense extends QuantLayer {
  static readonly className = 'QuantDense';
  readonly units: number;

  constructor(args: QuantDenseArgs) {
    super(args);
    this.units = args.units;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    this.addKernelAndBias([shape[shape.length - 1]!, this.units], this.units);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    return [...shape.slice(0, -1), this.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const { x, kernel, alpha } = this.quantized(inputs);
      return this.addBias(this.scaled(tf.matMul(x as tf.Tensor2D, kernel as tf.Tensor2D), alpha));
    });
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), units: this.units };
  }
}

/**
 * Applies a quantizer as an activation (the binary network's sign after each BatchNorm). With
 * `shift`, a learnable per-channel threshold comes first, q(x - b_c) (ReActNet's RSign): b_c
 * trains with the gradient -dy * q'(x - b_c). After a BatchNorm it is a second bias, so at
 * inference it folds into the packed thresholds; in training it lets a channel's sign point move
 * at its own pace, apart from the BatchNorm's beta that the exit head also reads.
 */
export class QuantActivation extends tf.layers.Layer {
  static readonly className = 'QuantActivation';
  readonly quantizer: QuantizerSpec;
  readonly shift: boolean;
  private readonly q: Quantizer;
  private shiftWeight?: tf.LayerVariable;

  constructor(args: { quantizer: QuantizerArg; shift?: boolean; name?: string }) {
    super({ name: args.name });
    this.quantizer = quantizerSpec(args.quantizer);
    this.shift = args.shift ?? false;
    this.q = quantizer(this.quantizer)!;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const shape = (Array.isArray(inputShape[0]) ? inputShape[0] : inputShape) as tf.Shape;
    if (this.shift) this.shiftWeight = this.addWeight('shift', [shape[shape.length - 1]!], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override call(inputs: tf.Tensor | tf.Tensor[], _kwargs: Kwargs): tf.Tensor {
    return tf.tidy(() => {
      const x = one(inputs);
      const fused = this.quantizer.name === 'ste_sign' && fusedOps();
      if (fused) return fused.steSign(x, this.shiftWeight?.read() as tf.Tensor1D | undefined, this.quantizer.clipValue);
      return this.q(this.shiftWeight ? tf.sub(x, this.shiftWeight.read()) : x);
    });
  }

  /** RSign's per-channel threshold, as a variable; undefined without one. */
  get shiftVariable(): tf.Variable | undefined {
    return this.shiftWeight?.read() as tf.Variable | undefined;
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { ...super.getConfig(), quantizer: serializeQuantizer(this.quantizer) as unknown as tf.serialization.ConfigDict, shift: this.shift };
  }
}

for (const cls of [QuantConv2D, QuantDense, QuantActivation]) {
  tf.serialization.registerClass(cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>);
}
