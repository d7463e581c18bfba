import fs from 'node:fs';
import { BeeError } from '../errors.js';
import { shouldExit, type ExitRule } from '../exits/rules.js';
import { type PackedModel, words } from './format.js';

interface Kernels {
  memory: WebAssembly.Memory;
  reserve(bytes: number): number;
  realConvSign(x: number, height: number, width: number, along: number, weights: number, groups: number, thresholds: number, flips: number, out: number, outStride: number, outOffset: number): void;
  binConvSign(x: number, outer: number, inner: number, inWords: number, along: number, weights: number, groups: number, limits: number, flips: number, out: number, outStride: number, outOffset: number): void;
  pointConvPoolSign(x: number, height: number, width: number, inWords: number, weights: number, groups: number, limits: number, flips: number, out: number, outT: number, outWords: number, stats: number): void;
}

// Built from src/engine/kernels.as.ts; the same path from src/engine (tests) and dist/engine.
const WASM = new URL('../../dist/engine/kernels.wasm', import.meta.url);
let compiled: WebAssembly.Module | undefined;

function kernelModule(): WebAssembly.Module {
  if (!compiled) {
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(WASM);
    } catch (err) {
      throw new BeeError(`cannot read the packed engine's kernels: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { file: WASM.pathname, hint: 'run npm run build' });
    }
    compiled = new WebAssembly.Module(bytes);
  }
  return compiled;
}

/** A folded BatchNorm + sign in the engine's memory: per group of four channels, a v128 of thresholds (or popcount limits) and one of flip masks. */
interface SignLayer {
  thresholds: number;
  flips: number;
}

interface Block {
  filters: number;
  groups: number;
  height: number;
  width: number;
  /** input words per position (the first block's input is one real value) */
  inWords: number;
  /** row-major [height][width][inWords], and column-major (for the (3x1) conv) */
  input: number;
  inputT: number;
  conv1x3: number;
  conv3x1: number;
  sign1x3: SignLayer;
  sign3x1: SignLayer;
  /** the (1x3) and (3x1) outputs side by side: [position][2 * words(filters)] */
  concat: number;
  conv1x1: number;
  signOut: SignLayer;
  /** the next block's input: [pooled position][words(filters)], row-major, then column-major */
  output: number;
  outputT: number;
  /** per channel, the smallest then the largest pooled popcount of the (1x1) conv */
  stats: number;
  exit: { scale: Float32Array; shift: Float32Array; kernel: Float32Array; bias: Float32Array };
}

const fround = Math.fround;
const flipBit = (flips: Uint32Array, c: number) => (flips[c >> 5] >>> (c & 31)) & 1;

/**
 * The packed binary network, run with XNOR + popcount in WebAssembly SIMD, one clip at a time,
 * block by block with the same early-exit rules as `bee eval`. Everything is laid out once at
 * load; running a clip allocates nothing: it writes each exit's softmax into `probabilities`.
 */
export class PackedEngine {
  readonly labels: string[];
  readonly exits: number;
  /** softmax temperature of each exit (from the file; `bee sweep --calibrate` fits them) */
  temperatures: number[];
  /** logits and softmax of each exit that ran in the last run, reused from run to run */
  readonly logits: Float64Array[];
  readonly probabilities: Float32Array[];
  private readonly kernels: Kernels;
  private readonly blocks: Block[];
  private readonly inputFloats: Float32Array;
  private readonly memory: Int32Array;

  constructor(readonly model: PackedModel) {
    const { header, tensors } = model;
    const { filters, classes, inputShape } = header.network;
    const tensor = <T>(name: string) => tensors.get(name) as T;
    this.labels = header.labels;
    this.exits = filters.length;
    this.temperatures = header.temperatures;
    this.logits = filters.map(() => new Float64Array(classes));
    this.probabilities = filters.map(() => new Float32Array(classes));
    this.kernels = new WebAssembly.Instance(kernelModule(), {}).exports as unknown as Kernels;

    // Lay out every buffer as 16-byte aligned offsets, reserve them at once, then fill them.
    let bytes = 0;
    const take = (size: number) => {
      const at = bytes;
      bytes += Math.ceil(size / 16) * 16;
      return at;
    };
    const sign = (groups: number, thresholdSets = 1): SignLayer => ({ thresholds: take(thresholdSets * groups * 16), flips: take(groups * 16) });
    let [height, width] = inputShape;
    const inputAt = take(height * width * 4);
    let [input, inputT] = [inputAt, inputAt];
    this.blocks = filters.map((f, i) => {
      // Groups of four channels, padded to quads of four groups (the kernels' unit of work).
      const groups = Math.ceil(f / 16) * 4;
      const inWords = i === 0 ? 1 : words(filters[i - 1]);
      const convBytes = groups * 3 * inWords * 16;
      const block: Block = {
        filters: f,
        groups,
        height,
        width,
        inWords,
        input,
        conv1x3: take(convBytes),
        conv3x1: take(convBytes),
        inputT,
        sign1x3: sign(groups, i === 0 ? 1 : 3),
        sign3x1: sign(groups, i === 0 ? 1 : 3),
        concat: take(height * width * 2 * words(f) * 4),
        conv1x1: take(groups * 2 * words(f) * 16),
        signOut: sign(groups),
        output: take((height >> 1) * (width >> 1) * words(f) * 4),
        outputT: take((height >> 1) * (width >> 1) * words(f) * 4),
        stats: take(2 * groups * 16),
        exit: {
          scale: tensor(`block${i + 1}.bn.scale`),
          shift: tensor(`block${i + 1}.bn.shift`),
          kernel: tensor(`exit${i + 1}.kernel`),
          bias: tensor(`exit${i + 1}.bias`),
        },
      };
      [input, inputT] = [block.output, block.outputT];
      [height, width] = [height >> 1, width >> 1];
      return block;
    });

    // Offsets become addresses. The memory never grows after this one reservation, so views of it stay valid.
    const base = this.kernels.reserve(bytes);
    const buffer = this.kernels.memory.buffer;
    this.memory = new Int32Array(buffer);
    this.inputFloats = new Float32Array(buffer, base + inputAt, inputShape[0] * inputShape[1]);
    this.blocks.forEach((block, i) => {
      const b = i + 1;
      for (const key of ['input', 'inputT', 'conv1x3', 'conv3x1', 'concat', 'conv1x1', 'output', 'outputT', 'stats'] as const) block[key] += base;
      for (const s of [block.sign1x3, block.sign3x1, block.signOut]) {
        s.thresholds += base;
        s.flips += base;
      }
      const { filters: f, groups, inWords } = block;
      for (const [conv, at, sign] of [['conv1x3', block.conv1x3, block.sign1x3], ['conv3x1', block.conv3x1, block.sign3x1]] as const) {
        const signs = tensor<Uint32Array>(`block${b}.${conv}.signs`);
        const thresholds = tensor<Int16Array | Float32Array>(`block${b}.${conv}.thresholds`);
        const flips = tensor<Uint32Array>(`block${b}.${conv}.flips`);
        if (b === 1) {
          this.fillRealKernel(at, signs, f, groups);
          this.fillFloatSign(sign, thresholds as Float32Array, flips, groups);
        } else {
          this.fillBinaryKernel(at, signs, f, groups, 3, inWords);
              // by the taps a position has inside the input: 3, 2 (on the border), 1 (a one-wide input)
          for (let taps = 3; taps >= 1; taps--) this.fillPopcountLimits(sign, 3 - taps, thresholds as Int16Array, flips, taps * filters[i - 1], groups);
        }
      }
      this.fillBinaryKernel(block.conv1x1, tensor(`block${b}.conv1x1.signs`), f, groups, 1, 2 * words(f));
      this.fillPopcountLimits(block.signOut, 0, tensor(`block${b}.bn.thresholds`), tensor(`block${b}.bn.flips`), 2 * f, groups);
    });
  }

  /** [group][tap] f32x4 of ±1 (0 in the lanes past the last channel). */
  private fillRealKernel(at: number, signs: Uint32Array, f: number, groups: number): void {
    const out = new Float32Array(this.memory.buffer, at, groups * 3 * 4);
    for (let c = 0; c < f; c++) for (let t = 0; t < 3; t++) out[((c >> 2) * 3 + t) * 4 + (c & 3)] = signs[c * 3 + t] & 1 ? 1 : -1;
  }

  /** [group][tap][input word] v128 of four channels' words. */
  private fillBinaryKernel(at: number, signs: Uint32Array, f: number, groups: number, taps: number, inWords: number): void {
    const out = new Uint32Array(this.memory.buffer, at, groups * taps * inWords * 4);
    for (let c = 0; c < f; c++) {
      for (let t = 0; t < taps; t++) for (let k = 0; k < inWords; k++) out[(((c >> 2) * taps + t) * inWords + k) * 4 + (c & 3)] = signs[(c * taps + t) * inWords + k];
    }
  }

  /** bit = (y >= threshold) XOR flip; a lane past the last channel has threshold +inf, no flip: always 0. */
  private fillFloatSign(at: SignLayer, thresholds: Float32Array, flips: Uint32Array, groups: number): void {
    const t = new Float32Array(this.memory.buffer, at.thresholds, groups * 4).fill(Infinity);
    const flip = new Int32Array(this.memory.buffer, at.flips, groups * 4).fill(0);
    thresholds.forEach((threshold, c) => {
      t[c] = threshold;
      flip[c] = flipBit(flips, c) ? -1 : 0;
    });
  }

  /**
   * bit = (dot >= T) XOR flip with dot = n - 2 * popcount is (popcount > floor((n - T) / 2)) XOR
   * NOT flip: the kernels compare popcounts. A lane past the last channel gets limit -1 and NOT
   * flip set: always 0. Limits `set` of a (1x3) or (3x1) conv is for positions with 3 - set taps inside the input.
   */
  private fillPopcountLimits(at: SignLayer, set: number, thresholds: Int16Array, flips: Uint32Array, n: number, groups: number): void {
    const limits = new Int32Array(this.memory.buffer, at.thresholds + set * groups * 16, groups * 4).fill(-1);
    const notFlips = new Int32Array(this.memory.buffer, at.flips, groups * 4).fill(-1);
    thresholds.forEach((t, c) => {
      limits[c] = Math.floor((n - t) / 2);
      notFlips[c] = flipBit(flips, c) ? 0 : -1;
    });
  }

  /**
   * Runs one clip's log-mel features (frames x mel bins, row-major) block by block until `rule`
   * says stop; returns the exit (1-based). probabilities[0 .. exit-1] hold those exits' softmax.
   */
  run(features: Float32Array, rule: ExitRule): number {
    if (features.length !== this.inputFloats.length) throw new BeeError(`expected ${this.inputFloats.length} feature values (frames x mel bins), got ${features.length}`);
    this.inputFloats.set(features);
    const k = this.kernels;
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i];
      const half = words(b.filters);
      const [s13, s31, out] = [b.sign1x3, b.sign3x1, b.signOut];
      if (i === 0) {
        k.realConvSign(b.input, b.height, b.width, 0, b.conv1x3, b.groups, s13.thresholds, s13.flips, b.concat, 2 * half, 0);
        k.realConvSign(b.input, b.height, b.width, 1, b.conv3x1, b.groups, s31.thresholds, s31.flips, b.concat, 2 * half, half);
      } else {
        k.binConvSign(b.input, b.height, b.width, b.inWords, 0, b.conv1x3, b.groups, s13.thresholds, s13.flips, b.concat, 2 * half, 0);
        k.binConvSign(b.inputT, b.width, b.height, b.inWords, 1, b.conv3x1, b.groups, s31.thresholds, s31.flips, b.concat, 2 * half, half);
      }
      k.pointConvPoolSign(b.concat, b.height, b.width, 2 * half, b.conv1x1, b.groups, out.thresholds, out.flips, b.output, b.outputT, half, b.stats);
      this.exitHead(i);
      if (shouldExit(this.probabilities[i], i + 1, this.blocks.length, rule)) return i + 1;
    }
    return this.blocks.length;
  }

  /**
   * Exit k: global max-pool of the block's BatchNorm output, a dense layer, softmax. BatchNorm is
   * monotonic per channel, so its max over positions is its value at the largest or the smallest
   * pooled dot product: n - 2 * (smallest or largest popcount).
   */
  private exitHead(i: number): void {
    const { filters, groups, stats, exit } = this.blocks[i];
    const { scale, shift, kernel, bias } = exit;
    const logits = this.logits[i];
    const n = 2 * filters;
    const classes = logits.length;
    const minAt = stats >> 2;
    const maxAt = minAt + groups * 4;
    logits.set(bias);
    for (let c = 0; c < filters; c++) {
      const high = fround(fround((n - 2 * this.memory[minAt + c]) * scale[c]) + shift[c]);
      const low = fround(fround((n - 2 * this.memory[maxAt + c]) * scale[c]) + shift[c]);
      const feature = high > low ? high : low;
      for (let j = 0; j < classes; j++) logits[j] += feature * kernel[c * classes + j];
    }
    const t = this.temperatures[i];
    let max = -Infinity;
    for (let j = 0; j < classes; j++) if (logits[j] / t > max) max = logits[j] / t;
    let sum = 0;
    const p = this.probabilities[i];
    for (let j = 0; j < classes; j++) sum += Math.exp(logits[j] / t - max);
    for (let j = 0; j < classes; j++) p[j] = Math.exp(logits[j] / t - max) / sum;
  }
}
