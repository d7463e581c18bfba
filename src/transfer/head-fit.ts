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
  seed: number;
}

/**
 * A head that fits 5-20 examples a word, each seen many times over in its augmented copies: a
 * hidden layer of 64 and ten epochs (docs/custom-words.md says what else was tried).
 */
export const DEFAULT_HEAD_FIT: HeadFitOptions = { hidden: 64, epochs: 10, batchSize: 32, learningRate: 1e-2, weightDecay: 1e-2, labelSmoothing: 0.1, seed: 1 };

/** What fitHead returns besides the weights: the last epoch's mean training loss and accuracy. */
export interface HeadFit {
  weights: HeadWeights;
  loss: number;
  accuracy: number;
}

const ADAM = { beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };

/** One trainable array with its Adam moments. */
class Param {
  readonly grad: Float64Array;
  private readonly m: Float64Array;
  private readonly v: Float64Array;
  constructor(
    readonly value: Float64Array,
    private readonly decays: boolean,
  ) {
    this.grad = new Float64Array(value.length);
    this.m = new Float64Array(value.length);
    this.v = new Float64Array(value.length);
  }

  /** AdamW (Loshchilov & Hutter, 2019): Adam's step on the gradient, the decay on the weight itself. */
  step(rate: number, t: number, weightDecay: number): void {
    const { beta1, beta2, epsilon } = ADAM;
    const corrected = (rate * Math.sqrt(1 - beta2 ** t)) / (1 - beta1 ** t);
    const decay = this.decays ? 1 - rate * weightDecay : 1;
    const { value, grad, m, v } = this;
    for (let i = 0; i < value.length; i++) {
      m[i] = beta1 * m[i] + (1 - beta1) * grad[i];
      v[i] = beta2 * v[i] + (1 - beta2) * grad[i] * grad[i];
      value[i] = value[i] * decay - (corrected * m[i]) / (Math.sqrt(v[i]) + epsilon);
    }
    grad.fill(0);
  }
}

/** Glorot-uniform, as Keras's Dense starts (symmetric in its shape: this is [fanOut][fanIn] too). */
function glorot(fanIn: number, fanOut: number, rng: () => number): Float64Array {
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return Float64Array.from({ length: fanIn * fanOut }, () => (2 * rng() - 1) * limit);
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

/**
 * y [rows][units] = x [rows][inputs] W + b over a batch of rows, W held transposed ([units][inputs]):
 * each output is a dot product over contiguous memory, the loop JavaScript runs fastest. Rows go
 * four at a time and units two at a time, each weight read once for the four rows and each input
 * once for the two units: the sums add in the same order as one by one (the results are bit for
 * bit the same), with a fraction of the memory traffic.
 */
function dense(x: Float64Array, rows: number, inputs: number, wT: Float64Array, b: Float64Array, units: number, y: Float64Array): void {
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const [x0, x1, x2, x3] = [r * inputs, (r + 1) * inputs, (r + 2) * inputs, (r + 3) * inputs];
    let u = 0;
    for (; u + 2 <= units; u += 2) {
      const [wu, wv] = [u * inputs, (u + 1) * inputs];
      let [s0, s1, s2, s3] = [b[u], b[u], b[u], b[u]];
      let [t0, t1, t2, t3] = [b[u + 1], b[u + 1], b[u + 1], b[u + 1]];
      for (let i = 0; i < inputs; i++) {
        const w = wT[wu + i];
        const v = wT[wv + i];
        const a0 = x[x0 + i];
        const a1 = x[x1 + i];
        const a2 = x[x2 + i];
        const a3 = x[x3 + i];
        s0 += a0 * w;
        s1 += a1 * w;
        s2 += a2 * w;
        s3 += a3 * w;
        t0 += a0 * v;
        t1 += a1 * v;
        t2 += a2 * v;
        t3 += a3 * v;
      }
      y[r * units + u] = s0;
      y[(r + 1) * units + u] = s1;
      y[(r + 2) * units + u] = s2;
      y[(r + 3) * units + u] = s3;
      y[r * units + u + 1] = t0;
      y[(r + 1) * units + u + 1] = t1;
      y[(r + 2) * units + u + 1] = t2;
      y[(r + 3) * units + u + 1] = t3;
    }
    for (; u < units; u++) {
      const wu = u * inputs;
      let [s0, s1, s2, s3] = [b[u], b[u], b[u], b[u]];
      for (let i = 0; i < inputs; i++) {
        const w = wT[wu + i];
        s0 += x[x0 + i] * w;
        s1 += x[x1 + i] * w;
        s2 += x[x2 + i] * w;
        s3 += x[x3 + i] * w;
      }
      y[r * units + u] = s0;
      y[(r + 1) * units + u] = s1;
      y[(r + 2) * units + u] = s2;
      y[(r + 3) * units + u] = s3;
    }
  }
  for (; r < rows; r++) {
    const xr = r * inputs;
    for (let u = 0; u < units; u++) {
      const wu = u * inputs;
      let sum = b[u];
      for (let i = 0; i < inputs; i++) sum += x[xr + i] * wT[wu + i];
      y[r * units + u] = sum;
    }
  }
}

/**
 * dW += g^T x and db += the sum of g over rows (W transposed, as in dense); dx = g W where asked.
 * dW's rows are read and written once for eight rows of x, adding in the order row by row would.
 * Row by row skips the rows whose g is 0; here only a unit's block of eight zeros is skipped, and
 * the others add g * x = +0 or -0, which leaves every sum as it is (x is finite, and a sum that
 * starts at +0 is never -0), so the weights stay the same bit for bit.
 */
function denseBackward(
  x: Float64Array,
  rows: number,
  inputs: number,
  wT: Float64Array,
  units: number,
  g: Float64Array,
  dwT: Float64Array,
  db: Float64Array,
  dx?: Float64Array,
): void {
  for (let r = 0; r < rows; r++) for (let u = 0; u < units; u++) db[u] += g[r * units + u];
  let r = 0;
  for (; r + 8 <= rows; r += 8) {
    const x0 = r * inputs;
    const [x1, x2, x3, x4, x5, x6, x7] = [x0 + inputs, x0 + 2 * inputs, x0 + 3 * inputs, x0 + 4 * inputs, x0 + 5 * inputs, x0 + 6 * inputs, x0 + 7 * inputs];
    for (let u = 0; u < units; u++) {
      const gr = r * units + u;
      const [g0, g1, g2, g3] = [g[gr], g[gr + units], g[gr + 2 * units], g[gr + 3 * units]];
      const [g4, g5, g6, g7] = [g[gr + 4 * units], g[gr + 5 * units], g[gr + 6 * units], g[gr + 7 * units]];
      if (g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0 && g6 === 0 && g7 === 0) continue;
      const wu = u * inputs;
      for (let i = 0; i < inputs; i++)
        dwT[wu + i] =
          dwT[wu + i] + g0 * x[x0 + i] + g1 * x[x1 + i] + g2 * x[x2 + i] + g3 * x[x3 + i] + g4 * x[x4 + i] + g5 * x[x5 + i] + g6 * x[x6 + i] + g7 * x[x7 + i];
    }
  }
  for (; r < rows; r++) {
    const xr = r * inputs;
    for (let u = 0; u < units; u++) {
      const gu = g[r * units + u];
      if (gu === 0) continue;
      const wu = u * inputs;
      for (let i = 0; i < inputs; i++) dwT[wu + i] += gu * x[xr + i];
    }
  }
  if (!dx) return;
  dx.fill(0, 0, rows * inputs);
  for (let r = 0; r < rows; r++)
    for (let u = 0; u < units; u++) {
      const gu = g[r * units + u];
      if (gu === 0) continue;
      const wu = u * inputs;
      for (let i = 0; i < inputs; i++) dx[r * inputs + i] += gu * wT[wu + i];
    }
}

/**
 * Trains one exit head on pooled statistics, in plain TypeScript (the same code trains in the
 * browser): x [n][inputs] float32, labels in [0, classes). The loss is the mean cross-entropy of
 * softmax(logits) against smoothed targets, each example weighted by the inverse frequency of its
 * class (a word of 5 examples weighs as much as 200 windows of background), minimized by AdamW in
 * mini-batches. Inputs are standardized during training and the standardization folded into the
 * first kernel: W' = W / spread (per input row), b' = b - mean . W'.
 */
export function fitHead(x: Float32Array, inputs: number, labels: Int32Array, classes: number, options: HeadFitOptions): HeadFit {
  const n = labels.length;
  if (!(n > 0 && x.length === n * inputs)) throw new RangeError(`fitHead: ${x.length} values for ${n} examples of ${inputs} inputs`);
  const rng = rngFor(options.seed, 11);
  const { mean, spread } = standardization(x, n, inputs);
  const z = new Float64Array(n * inputs);
  for (let r = 0; r < n; r++) for (let i = 0; i < inputs; i++) z[r * inputs + i] = (x[r * inputs + i] - mean[i]) / spread[i];

  const counts = new Float64Array(classes);
  for (const l of labels) counts[l]++;
  const present = counts.filter((c) => c > 0).length;
  const exampleWeight = Float64Array.from(labels, (l) => n / (present * counts[l]));

  const hidden = options.hidden;
  const first = hidden ? { w: new Param(glorot(inputs, hidden, rng), true), b: new Param(new Float64Array(hidden), false) } : undefined;
  const fanIn = hidden || inputs;
  const out = { w: new Param(glorot(fanIn, classes, rng), true), b: new Param(new Float64Array(classes), false) };
  const params = [...(first ? [first.w, first.b] : []), out.w, out.b];

  const batch = Math.min(options.batchSize, n);
  const xb = new Float64Array(batch * inputs);
  const h = new Float64Array(batch * (hidden || 1));
  const dh = new Float64Array(batch * (hidden || 1));
  const logits = new Float64Array(batch * classes);
  const g = new Float64Array(batch * classes);
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
      for (let r = 0; r < rows; r++) xb.set(z.subarray(order[start + r] * inputs, (order[start + r] + 1) * inputs), r * inputs);
      let top = xb;
      if (first) {
        dense(xb, rows, inputs, first.w.value, first.b.value, hidden, h);
        for (let i = 0; i < rows * hidden; i++) h[i] = Math.max(0, h[i]);
        top = h;
      }
      dense(top, rows, fanIn, out.w.value, out.b.value, classes, logits);
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
      if (first) {
        denseBackward(h, rows, hidden, out.w.value, classes, g, out.w.grad, out.b.grad, dh);
        for (let i = 0; i < rows * hidden; i++) if (h[i] <= 0) dh[i] = 0;
        denseBackward(xb, rows, inputs, first.w.value, hidden, dh, first.w.grad, first.b.grad);
      } else denseBackward(xb, rows, inputs, out.w.value, classes, g, out.w.grad, out.b.grad);
      t++;
      for (const p of params) p.step(options.learningRate, t, options.weightDecay);
    }
  }

  // fold the standardization into the first layer; kernels back to [inputs][units]
  const [w1, b1, units] = first ? [first.w.value, first.b.value, hidden] : [out.w.value, out.b.value, classes];
  const kernel = new Float32Array(inputs * units);
  const bias = Float64Array.from(b1);
  for (let u = 0; u < units; u++)
    for (let i = 0; i < inputs; i++) {
      const folded = w1[u * inputs + i] / spread[i];
      kernel[i * units + u] = folded;
      bias[u] -= mean[i] * folded;
    }
  const weights: HeadWeights = first
    ? { hidden: { kernel, bias: Float32Array.from(bias) }, kernel: transposed(out.w.value, classes, hidden), bias: Float32Array.from(out.b.value) }
    : { kernel, bias: Float32Array.from(bias) };
  return { weights, loss, accuracy: correct / n };
}

/** [rows][columns] -> [columns][rows], as float32. */
function transposed(x: ArrayLike<number>, rows: number, columns: number): Float32Array {
  const out = new Float32Array(rows * columns);
  for (let r = 0; r < rows; r++) for (let c = 0; c < columns; c++) out[c * rows + r] = x[r * columns + c];
  return out;
}

/** The head's logits for `rows` rows of statistics x [rows][inputs] (float64, [rows][classes]): what the engine computes, for checking a fit. */
export function headLogits(weights: HeadWeights, x: ArrayLike<number>, rows = 1): Float64Array {
  const layer = (input: Float64Array, kernel: Float32Array, bias: Float32Array) => {
    const inputs = input.length / rows;
    const out = new Float64Array(rows * bias.length);
    dense(input, rows, inputs, Float64Array.from(transposed(kernel, inputs, bias.length)), Float64Array.from(bias), bias.length, out);
    return out;
  };
  let input = Float64Array.from(x);
  if (weights.hidden) input = layer(input, weights.hidden.kernel, weights.hidden.bias).map((v) => Math.max(0, v));
  return layer(input, weights.kernel, weights.bias);
}
