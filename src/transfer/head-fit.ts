import { instantiateKernels, type Kernels, planMemory } from '../engine/wasm-kernels.js';
import { rngFor, shuffle } from '../util/rng.js';

/**
 * An exit head's dense layers as the packed format stores them (src/engine/format.ts): kernels
 * [inputs][units] row-major, float32; the hidden ReLU layer first where the head has one.
 */
export interface HeadWeights {
  hidden?: { kernel: Float32Array; bias: Float32Array };
  kernel: Float32Array;
  bias: Float32Array;
}

export interface HeadFitOptions {
  /** units of a hidden ReLU layer; 0: the head is one dense layer (softmax regression) */
  hidden: number;
  epochs: number;
  batchSize: number;
  learningRate: number;
  /** decoupled weight decay (AdamW) on the kernels, per step, times the learning rate */
  weightDecay: number;
  /** the targets' smoothing: 1 - s on the class, s spread over all classes (Szegedy et al., 2016) */
  labelSmoothing: number;
  /** heads trained side by side, each from its own seed (seed, seed + 100, ...), their logits averaged */
  heads: number;
  seed: number;
}

/**
 * A head that fits 5-20 examples a word, each seen many times over in its augmented copies: a
 * hidden layer of 64, ten epochs, and three of them averaged: heads fit on a few clips err apart,
 * and their mean errs less at every exit, so that more clips leave early (docs/custom-words.md).
 */
export const DEFAULT_HEAD_FIT: HeadFitOptions = {
  hidden: 64,
  epochs: 10,
  batchSize: 32,
  learningRate: 1e-2,
  weightDecay: 1e-2,
  labelSmoothing: 0.1,
  heads: 3,
  seed: 1,
};

/** What fitHead returns besides the weights: the last epoch's mean training loss and accuracy (over its heads). */
export interface HeadFit {
  weights: HeadWeights;
  loss: number;
  accuracy: number;
}

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** f64 arrays in the kernels' memory: a view to read and write from here, the address the kernels take. */
interface Buffer {
  at: number;
  view: Float64Array;
}

/** Buffers of the given lengths (f64 values), reserved at once in the kernels' memory. */
function buffers(kernels: Kernels, lengths: Record<string, number>): Record<string, Buffer> {
  const entries = Object.entries(lengths);
  const at = planMemory(kernels, (layout) => entries.map(([, n]) => layout.take(8 * n)));
  return Object.fromEntries(entries.map(([name, n], i) => [name, { at: at[i], view: new Float64Array(kernels.memory.buffer, at[i], n) }]));
}

/** One trainable array with its gradient and its Adam moments, in the kernels' memory. */
class Param {
  constructor(
    private readonly kernels: Kernels,
    private readonly value: Buffer,
    private readonly grad: Buffer,
    private readonly moments: { m: Buffer; v: Buffer },
    private readonly decays: boolean,
  ) {}

  /**
   * AdamW (Loshchilov & Hutter, 2019): Adam's step on the gradient, the decay on the weight itself,
   * m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, w = w (1 - rate decay) - rate' m / (sqrt(v) + eps)
   * with rate' the bias-corrected rate; the gradient is then zeroed for the next step.
   */
  step(rate: number, t: number, weightDecay: number): void {
    const { beta1, beta2, epsilon } = ADAM;
    const corrected = (rate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
    const decay = this.decays ? 1 - rate * weightDecay : 1;
    const { m, v } = this.moments;
    this.kernels.adamStep(this.value.at, this.grad.at, m.at, v.at, this.value.view.length, decay, corrected, beta1, beta2, epsilon);
  }
}

/**
 * Glorot-uniform, as Keras's Dense starts, into a kernel [fanIn][fanOut]: drawn unit by unit, the
 * order bee has always drawn them in, so that a seed gives the same head as before.
 */
function glorot(kernel: Float64Array, fanIn: number, fanOut: number, rng: () => number): void {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  for (let u = 0; u < fanOut; u++) for (let i = 0; i < fanIn; i++) kernel[i * fanOut + u] = (2 * rng() - 1) * limit;
}

/**
 * Per input, the mean and the spread (standard deviation, floored) over the n rows of x: the
 * pooled statistics of a binary network's stages differ in scale by orders of magnitude, and
 * gradient descent on them unscaled crawls. The scaling folds into the first kernel afterwards,
 * so the head bee stores reads the statistics as the engine computes them.
 */
function standardization(x: Float32Array, n: number, d: number): { mean: Float64Array; spread: Float64Array } {
  const mean = new Float64Array(d);
  const spread = new Float64Array(d);
  for (let r = 0; r < n; r++) for (let i = 0; i < d; i++) mean[i] += x[r * d + i];
  for (let i = 0; i < d; i++) mean[i] /= n;
  for (let r = 0; r < n; r++)
    for (let i = 0; i < d; i++) {
      const e = x[r * d + i] - mean[i];
      spread[i] += e * e;
    }
  let largest = 0;
  for (let i = 0; i < d; i++) {
    spread[i] = Math.sqrt(spread[i] / n);
    largest = Math.max(largest, spread[i]);
  }
  // a constant input (a dead channel) is scaled as the others, not blown up
  for (let i = 0; i < d; i++) spread[i] = Math.max(spread[i], 1e-3 * largest, 1e-12);
  return { mean, spread };
}

/** db += the sum of g [rows][units] over its rows, row by row. */
function addRows(g: Float64Array, rows: number, units: number, db: Float64Array): void {
  for (let r = 0; r < rows; r++) for (let u = 0; u < units; u++) db[u] += g[r * units + u];
}

/**
 * Trains an exit head on pooled statistics, in TypeScript and the packed engine's WebAssembly
 * kernels (the same code trains in the browser): x [n][inputs] float32, labels in [0, classes).
 * The loss is the mean cross-entropy of softmax(logits) against smoothed targets, each example
 * weighted by the inverse frequency of its class (a word of 5 examples weighs as much as 200
 * windows of background), minimized by AdamW in mini-batches. Inputs are standardized during
 * training and the standardization folded into the first kernel: W' = W / spread (per input
 * row), b' = b - mean . W'. With options.heads > 1, that many heads from as many seeds, stored
 * as one (averaged).
 */
export function fitHead(x: Float32Array, inputs: number, labels: Int32Array, classes: number, options: HeadFitOptions): HeadFit {
  const n = labels.length;
  if (!(n > 0 && x.length === n * inputs)) throw new RangeError(`fitHead: ${x.length} values for ${n} examples of ${inputs} inputs`);
  // every head of a bag trains on the same standardized inputs
  const { mean, spread } = standardization(x, n, inputs);
  const z = new Float64Array(n * inputs);
  for (let r = 0; r < n; r++) for (let i = 0; i < inputs; i++) z[r * inputs + i] = (x[r * inputs + i] - mean[i]) / spread[i];
  const fits = Array.from({ length: options.heads }, (_, j) =>
    fitOne({ z, mean, spread }, inputs, labels, classes, { ...options, seed: options.seed + 100 * j }),
  );
  const average = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  return {
    weights: averaged(fits.map((f) => f.weights)),
    loss: average(fits.map((f) => f.loss)),
    accuracy: average(fits.map((f) => f.accuracy)),
  };
}

/**
 * One head whose logits are the mean of the given heads' (float32 rounding aside). Without a
 * hidden layer, the mean of their kernels and biases; with one, their hidden units side by side
 * (n x 64 for n heads of 64), each head's output rows divided by n, and the mean of the biases.
 */
function averaged(heads: HeadWeights[]): HeadWeights {
  if (heads.length === 1) return heads[0];
  const n = heads.length;
  const meanOf = (arrays: Float32Array[], scale = 1 / n) => Float32Array.from(arrays[0], (_, i) => arrays.reduce((s, a) => s + a[i], 0) * scale);
  const bias = meanOf(heads.map((h) => h.bias));
  if (!heads[0].hidden) return { kernel: meanOf(heads.map((h) => h.kernel)), bias };
  const hidden = heads.map((h) => h.hidden!);
  const units = hidden[0].bias.length;
  const inputs = hidden[0].kernel.length / units;
  const kernel = new Float32Array(inputs * units * n);
  for (const [j, h] of hidden.entries()) for (let i = 0; i < inputs; i++) kernel.set(h.kernel.subarray(i * units, (i + 1) * units), (i * n + j) * units);
  const out = new Float32Array(heads[0].kernel.length * n);
  for (const [j, h] of heads.entries())
    out.set(
      h.kernel.map((w) => w / n),
      j * h.kernel.length,
    );
  return { hidden: { kernel, bias: Float32Array.from(hidden.flatMap((h) => [...h.bias])) }, kernel: out, bias };
}

/** fitHead's one head, on inputs z [n][inputs] standardized by `mean` and `spread` (folded back into its weights). */
function fitOne(
  { z, mean, spread }: { z: Float64Array; mean: Float64Array; spread: Float64Array },
  inputs: number,
  labels: Int32Array,
  classes: number,
  options: HeadFitOptions,
): HeadFit {
  const n = labels.length;
  const rng = rngFor(options.seed, 11);

  const counts = new Float64Array(classes);
  for (const l of labels) counts[l]++;
  const present = counts.filter((c) => c > 0).length;
  const exampleWeight = Float64Array.from(labels, (l) => n / (present * counts[l]));

  const hidden = options.hidden;
  const fanIn = hidden || inputs;
  const batch = Math.min(options.batchSize, n);
  const kernels = instantiateKernels();
  // each weight array w comes with its gradient dw and its Adam moments mw and vw
  const sizes = { w1: inputs * hidden, b1: hidden, w2: fanIn * classes, b2: classes };
  const buf = buffers(kernels, {
    x: batch * inputs,
    h: batch * hidden,
    dh: batch * hidden,
    logits: batch * classes,
    g: batch * classes,
    ...Object.fromEntries(Object.entries(sizes).flatMap(([name, n]) => ['', 'd', 'm', 'v'].map((part) => [part + name, n]))),
  });
  const param = (name: keyof typeof sizes, decays: boolean) =>
    new Param(kernels, buf[name], buf[`d${name}`], { m: buf[`m${name}`], v: buf[`v${name}`] }, decays);
  if (hidden) glorot(buf.w1.view, inputs, hidden, rng);
  glorot(buf.w2.view, fanIn, classes, rng);
  const first = hidden ? { w: param('w1', true), b: param('b1', false) } : undefined;
  const out = { w: param('w2', true), b: param('b2', false) };
  const params = [...(first ? [first.w, first.b] : []), out.w, out.b];

  const [h, dh, logits, g] = [buf.h.view, buf.dh.view, buf.logits.view, buf.g.view];
  const smooth = options.labelSmoothing;
  let t = 0;
  let loss = 0;
  let correct = 0;
  for (let epoch = 0; epoch < options.epochs; epoch++) {
    const order = shuffle(
      Array.from({ length: n }, (_, i) => i),
      rng,
    );
    loss = 0;
    correct = 0;
    for (let start = 0; start < n; start += batch) {
      const rows = Math.min(batch, n - start);
      for (let r = 0; r < rows; r++) buf.x.view.set(z.subarray(order[start + r] * inputs, (order[start + r] + 1) * inputs), r * inputs);
      let top = buf.x;
      if (first) {
        kernels.headDense(buf.x.at, rows, inputs, buf.w1.at, buf.b1.at, hidden, buf.h.at);
        for (let i = 0; i < rows * hidden; i++) h[i] = Math.max(0, h[i]);
        top = buf.h;
      }
      kernels.headDense(top.at, rows, fanIn, buf.w2.at, buf.b2.at, classes, buf.logits.at);
      // softmax cross-entropy: g = weight * (p - target) / total weight of the batch
      let total = 0;
      for (let r = 0; r < rows; r++) total += exampleWeight[order[start + r]];
      for (let r = 0; r < rows; r++) {
        const example = order[start + r];
        const at = r * classes;
        let max = -Infinity;
        let best = 0;
        for (let c = 0; c < classes; c++) if (logits[at + c] > max) [max, best] = [logits[at + c], c];
        let sum = 0;
        for (let c = 0; c < classes; c++) sum += Math.exp(logits[at + c] - max);
        const w = exampleWeight[example];
        const label = labels[example];
        for (let c = 0; c < classes; c++) {
          const p = Math.exp(logits[at + c] - max) / sum;
          const target = (c === label ? 1 - smooth : 0) + smooth / classes;
          loss -= (w * target * (logits[at + c] - max - Math.log(sum))) / n;
          g[at + c] = (w * (p - target)) / total;
        }
        if (best === label) correct++;
      }
      kernels.headDenseGrad(top.at, rows, fanIn, buf.g.at, classes, buf.dw2.at);
      addRows(g, rows, classes, buf.db2.view);
      if (first) {
        // dh = g W2^T where the ReLU let h through
        const w2 = buf.w2.view;
        for (let r = 0; r < rows; r++)
          for (let i = 0; i < hidden; i++) {
            let sum = 0;
            for (let c = 0; c < classes; c++) sum += g[r * classes + c] * w2[i * classes + c];
            dh[r * hidden + i] = h[r * hidden + i] > 0 ? sum : 0;
          }
        kernels.headDenseGrad(buf.x.at, rows, inputs, buf.dh.at, hidden, buf.dw1.at);
        addRows(dh, rows, hidden, buf.db1.view);
      }
      t++;
      for (const p of params) p.step(options.learningRate, t, options.weightDecay);
    }
  }

  // fold the standardization into the first layer
  const [w1, b1, units] = first ? [buf.w1.view, buf.b1.view, hidden] : [buf.w2.view, buf.b2.view, classes];
  const kernel = new Float32Array(inputs * units);
  const bias = Float64Array.from(b1);
  for (let u = 0; u < units; u++)
    for (let i = 0; i < inputs; i++) {
      const folded = w1[i * units + u] / spread[i];
      kernel[i * units + u] = folded;
      bias[u] -= mean[i] * folded;
    }
  const weights: HeadWeights = first
    ? { hidden: { kernel, bias: Float32Array.from(bias) }, kernel: Float32Array.from(buf.w2.view), bias: Float32Array.from(buf.b2.view) }
    : { kernel, bias: Float32Array.from(bias) };
  return { weights, loss, accuracy: correct / n };
}

/** The head's logits for `rows` rows of statistics x [rows][inputs] (float64, [rows][classes]): what the engine computes, for checking a fit. */
export function headLogits(weights: HeadWeights, x: ArrayLike<number>, rows = 1): Float64Array {
  const layers = [...(weights.hidden ? [weights.hidden] : []), weights];
  const inputs = x.length / rows;
  const kernels = instantiateKernels();
  const buf = buffers(
    kernels,
    Object.fromEntries(
      layers
        .flatMap((layer, k) => [
          [`in${k}`, rows * (k ? layers[k - 1].bias.length : inputs)],
          [`w${k}`, layer.kernel.length],
          [`b${k}`, layer.bias.length],
        ])
        .concat([['out', rows * weights.bias.length]]),
    ),
  );
  buf.in0.view.set(x);
  for (const [k, layer] of layers.entries()) {
    const units = layer.bias.length;
    buf[`w${k}`].view.set(layer.kernel);
    buf[`b${k}`].view.set(layer.bias);
    const into = k + 1 < layers.length ? buf[`in${k + 1}`] : buf.out;
    kernels.headDense(buf[`in${k}`].at, rows, buf[`in${k}`].view.length / rows, buf[`w${k}`].at, buf[`b${k}`].at, units, into.at);
    if (into !== buf.out) for (let i = 0; i < into.view.length; i++) into.view[i] = Math.max(0, into.view[i]);
  }
  return Float64Array.from(buf.out.view);
}
