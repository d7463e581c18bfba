import { BeeError } from '../errors.js';
import { Layout, WasmModule } from '../util/wasm-module.js';

/** The exports of kernels.as.ts: addresses and sizes in, results written to memory. */
export interface Kernels {
  memory: WebAssembly.Memory;
  reserve(bytes: number): number;
  realConvsSign(
    x: number,
    height: number,
    width: number,
    weights1x3: number,
    weights3x1: number,
    groups: number,
    thresholds1x3: number,
    thresholds3x1: number,
    out: number,
    outStride: number,
  ): void;
  binConvSign(
    x: number,
    outer: number,
    inner: number,
    inWords: number,
    along: number,
    table: number,
    blocks: number,
    limits: number,
    flips: number,
    out: number,
    outStride: number,
    outOffset: number,
    rows: number,
  ): void;
  pointConvPoolSign(
    x: number,
    height: number,
    width: number,
    inWords: number,
    table: number,
    blocks: number,
    limits: number,
    flips: number,
    out: number,
    outT: number,
    stats: number,
    rows: number,
    cells: number,
    cellCount: number,
    cellRows: number,
    cellColumns: number,
    gridColumns: number,
  ): void;
  dense(x: number, n: number, kernel: number, bias: number, out: number, units: number, relu: number): void;
  signBits(h: number, positions: number, blocks: number, rp: number, gamma: number, slope: number, zeta: number, thresholds: number, out: number): void;
  binConvResidual(
    x: number,
    outer: number,
    inner: number,
    inWords: number,
    along: number,
    table: number,
    blocks: number,
    channels: number,
    alpha: number,
    scale: number,
    shift: number,
    h: number,
    rows: number,
    rp: number,
    gamma: number,
    slope: number,
    zeta: number,
    nextThresholds: number,
    next: number,
  ): void;
  pointConvPoolResidual(
    x: number,
    height: number,
    width: number,
    inWords: number,
    table: number,
    blocks: number,
    channels: number,
    alpha: number,
    scale: number,
    shift: number,
    out: number,
    rows: number,
  ): void;
  shortcutAdd(
    h: number,
    height: number,
    width: number,
    inPadded: number,
    inChannels: number,
    kernel: number,
    outPadded: number,
    scale: number,
    shift: number,
    out: number,
    avg: number,
  ): void;
  shortcutTile(h: number, height: number, width: number, inPadded: number, inChannels: number, outPadded: number, outChannels: number, out: number): void;
  stemConv(x: number, height: number, width: number, weights: number, padded: number, groups: number, scale: number, shift: number, h: number): void;
  poolStats(
    h: number,
    height: number,
    width: number,
    padded: number,
    max: number,
    sums: number,
    cellCount: number,
    cellRows: number,
    cellColumns: number,
    gridColumns: number,
  ): void;
  /** Training an exit head (src/transfer/head-fit.ts): y = x w + b, f64 [rows][inputs] x [inputs][units]. */
  headDense(x: number, rows: number, inputs: number, w: number, b: number, units: number, y: number): void;
  /** dw [inputs][units] += g^T x, f64 */
  headDenseGrad(x: number, rows: number, inputs: number, g: number, units: number, dw: number): void;
  /** AdamW's step on f64 weights and their moments, the gradient then zeroed */
  adamStep(
    value: number,
    grad: number,
    m: number,
    v: number,
    count: number,
    decay: number,
    corrected: number,
    beta1: number,
    beta2: number,
    epsilon: number,
  ): void;
}

// Built from src/engine/kernels.as.ts; the same path from src/engine (tests) and dist/engine.
const KERNELS = new WasmModule<Kernels>(new URL('../../dist/engine/kernels.wasm', import.meta.url), "the packed engine's kernels");

/** Where there is no file system (a web page): the kernels' module, compiled from a fetch of kernels.wasm. */
export function useKernelModule(module: WebAssembly.Module): void {
  KERNELS.use(module);
}

/** A fresh instance of the kernels: its own memory, for one engine. */
export function instantiateKernels(): Kernels {
  return KERNELS.instantiate();
}

/**
 * An engine's buffers at their addresses in the kernels' memory, reserved at once: `plan` (which
 * must only take from the layout) runs once to size them, then again where the memory was
 * reserved. The memory never grows after this one reservation, so views of it stay valid.
 */
export function planMemory<P>(kernels: Kernels, plan: (layout: Layout) => P): P {
  const sizing = new Layout();
  plan(sizing);
  if (sizing.bytes > 3 * 1024 ** 3)
    throw new BeeError(`the packed network needs ${(sizing.bytes / 1024 ** 3).toFixed(1)} GiB of engine memory; WebAssembly has 4 GiB`, {
      hint: 'a narrower network (--width) fits',
    });
  return plan(new Layout(kernels.reserve(sizing.bytes)));
}

const NIBBLE_BITS = Uint8Array.from({ length: 16 }, (_, v) => (v & 1) + ((v >> 1) & 1) + ((v >> 2) & 1) + ((v >> 3) & 1));

/** Bytes of one input nibble's 16 rows of half a byte per channel, padded by a cache line (the kernels' chunkStride). */
const chunkBytes = (padded: number) => 8 * padded + 64;

/** Bytes of a binary conv's mismatch table over a run of `runWords` input words, for `padded` output channels. */
export const tableBytes = (runWords: number, padded: number) => runWords * 8 * chunkBytes(padded);

/**
 * A binary conv's mismatch table from its sign bits [channel][run word] (a run is the taps'
 * input words in a row): for nibble k of the run and value v, channel c's half byte of the row
 * is the number of bits where v differs from channel c's weights there. Channels past the last
 * stay 0.
 */
export function fillTable(memory: WebAssembly.Memory, at: number, signs: Uint32Array, f: number, padded: number, runWords: number): void {
  const table = new Uint8Array(memory.buffer, at, tableBytes(runWords, padded)).fill(0);
  const [rowBytes, chunk] = [padded >> 1, chunkBytes(padded)];
  for (let c = 0; c < f; c++) {
    // channel c of a block of 32: byte c % 16 of the block's 16, high nibble for c % 32 >= 16
    const [byte, shift] = [(c >> 5) * 16 + (c & 15), c & 16 ? 4 : 0];
    for (let k = 0; k < runWords * 8; k++) {
      const w = (signs[c * runWords + (k >> 3)] >>> ((k & 7) * 4)) & 15;
      for (let v = 0; v < 16; v++) table[k * chunk + v * rowBytes + byte] |= NIBBLE_BITS[v ^ w] << shift;
    }
  }
}

/** A dense layer in engine memory: kernel [inputs][units padded to 4] float32, bias [units padded]. */
export interface DenseLayer {
  inputs: number;
  units: number;
  padded: number;
  kernel: number;
  bias: number;
}

/** Plans a dense layer of `inputs` x `units` (units padded to 4). */
export function planDense(layout: Layout, inputs: number, units: number): DenseLayer {
  const padded = Math.ceil(units / 4) * 4;
  return { inputs, units, padded, kernel: layout.take(inputs * padded * 4), bias: layout.take(padded * 4) };
}

/** Fills a planned dense layer: [inputs][units] as trained -> [inputs][units padded to 4]. */
export function fillDense(memory: WebAssembly.Memory, layer: DenseLayer, kernel: Float32Array, bias: Float32Array): void {
  const k = new Float32Array(memory.buffer, layer.kernel, layer.inputs * layer.padded);
  for (let r = 0; r < layer.inputs; r++) k.set(kernel.subarray(r * layer.units, (r + 1) * layer.units), r * layer.padded);
  new Float32Array(memory.buffer, layer.bias, layer.padded).set(bias);
}

/**
 * An exit head's dense layers on its pooled features (f64, in engine memory at scratch.features):
 * the hidden ReLU layer if any, the output layer, its logits into `logits`, their softmax at
 * temperature t into `probabilities`; the pooled features into `keep` when given.
 */
export function exitOutputs(
  kernels: Kernels,
  scratch: { features: number; hidden: number; logits: number },
  exit: { hidden?: DenseLayer; output: DenseLayer },
  t: number,
  logits: Float64Array,
  probabilities: Float32Array,
  keep?: Float32Array,
): void {
  let input = scratch.features;
  if (keep) keep.set(new Float64Array(kernels.memory.buffer, scratch.features, keep.length));
  if (exit.hidden) {
    kernels.dense(input, exit.hidden.inputs, exit.hidden.kernel, exit.hidden.bias, scratch.hidden, exit.hidden.padded, 1);
    input = scratch.hidden;
  }
  kernels.dense(input, exit.output.inputs, exit.output.kernel, exit.output.bias, scratch.logits, exit.output.padded, 0);
  logits.set(new Float64Array(kernels.memory.buffer, scratch.logits, logits.length));
  softmaxInto(logits, t, probabilities);
}

/** p = softmax(logits / t), computed in float64 from the largest logit. */
export function softmaxInto(logits: Float64Array, t: number, p: Float32Array): void {
  let max = -Infinity;
  for (let j = 0; j < logits.length; j++) if (logits[j] / t > max) max = logits[j] / t;
  let sum = 0;
  for (let j = 0; j < logits.length; j++) sum += Math.exp(logits[j] / t - max);
  for (let j = 0; j < logits.length; j++) p[j] = Math.exp(logits[j] / t - max) / sum;
}
