import { BeeError } from '../errors.js';
import { shouldExit, type ExitRule } from '../spec/exit-rules.js';
import { familyOf } from '../spec/families.js';
import { headFeatures, type PackedModel } from './format.js';
import { PackedEngine } from './packed-engine.js';
import { floatBelow } from './float-order.js';
import { exitOutputs, fillDense, fillTable, planMemory } from './wasm-kernels.js';
import { type Block, type BlockPlan, planBlocks, type SignLayer } from './block-plan.js';

const fround = Math.fround;
const flipBit = (flips: Uint32Array, c: number) => (flips[c >> 5] >>> (c & 31)) & 1;

/**
 * The packed binary network, run on bits in WebAssembly SIMD, one clip at a time,
 * block by block with the same early-exit rules as `bee eval`. Everything is laid out once at
 * load; running a clip allocates nothing: it writes each exit's softmax into `probabilities`.
 */
export class BlockEngine extends PackedEngine {
  private readonly blocks: Block[];
  private readonly inputFloats: Float32Array;
  /** all of the engine's memory as u16 and u32, for the exit heads' statistics */
  private readonly memory16: Uint16Array;
  private readonly memory32: Uint32Array;
  /** statistics per channel an exit head reads (1: the paper's max) */
  private readonly headFeatures: number;
  /** engine memory: one exit's pooled features (f64), its hidden layer's and its logits' (f64, padded) */
  private readonly features: Float64Array;
  private readonly scratch: BlockPlan['scratch'];
  /** scratch: the table rows a position selects */
  private readonly rows: number;

  constructor(model: PackedModel) {
    super(model);
    const { header, tensors } = model;
    const { filters, inputShape, exitHead } = header.network;
    if (familyOf(header.network).body !== 'block')
      throw new BeeError(`a ${header.network.arch} network runs on ResidualEngine`, { hint: 'open packed models with engineFor(model)' });
    const tensor = <T>(name: string) => tensors.get(name) as T;
    this.headFeatures = headFeatures(exitHead);
    const plan = planMemory(this.kernels, (layout) => planBlocks(header.network, tensors, layout));
    ({ blocks: this.blocks, scratch: this.scratch, rows: this.rows } = plan);
    const buffer = this.kernels.memory.buffer;
    this.memory16 = new Uint16Array(buffer);
    this.memory32 = new Uint32Array(buffer);
    this.inputFloats = new Float32Array(buffer, plan.input, inputShape[0] * inputShape[1]);
    this.features = new Float64Array(buffer, this.scratch.features, this.headFeatures * Math.max(...filters));
    this.blocks.forEach((block, i) => {
      const b = i + 1;
      const memory = this.kernels.memory;
      if (block.exit.hidden) fillDense(memory, block.exit.hidden, tensor(`exit${b}.hidden.kernel`), tensor(`exit${b}.hidden.bias`));
      fillDense(memory, block.exit.output, tensor(`exit${b}.kernel`), tensor(`exit${b}.bias`));
      const { grid } = block;
      if (grid) {
        new Int32Array(buffer, grid.rows, grid.rowCells.length).set(grid.rowCells);
        new Int32Array(buffer, grid.cellColumns, grid.columnCells.length).set(grid.columnCells);
      }
      const { filters: f, inWords } = block;
      const padded = block.words * 32;
      for (const [conv, at, sign] of [
        ['conv1x3', block.conv1x3, block.sign1x3],
        ['conv3x1', block.conv3x1, block.sign3x1],
      ] as const) {
        const thresholds = tensor<Int16Array | Float32Array>(`block${b}.${conv}.thresholds`);
        const flips = tensor<Uint32Array>(`block${b}.${conv}.flips`);
        if (b === 1) {
          this.fillRealSign(at, sign, tensor(`block1.${conv}.kernel`), thresholds as Float32Array, flips, padded);
        } else {
          fillTable(this.kernels.memory, at, tensor(`block${b}.${conv}.signs`), f, padded, 3 * inWords);
          for (let taps = 3; taps >= 1; taps--) this.fillLimits(sign, 3 - taps, thresholds as Int16Array, flips, taps * filters[i - 1], padded);
        }
      }
      fillTable(this.kernels.memory, block.conv1x1, tensor(`block${b}.conv1x1.signs`), f, padded, 2 * block.words);
      this.fillLimits(block.signOut, 0, tensor(`block${b}.bn.thresholds`), tensor(`block${b}.bn.flips`), 2 * f, padded);
    });
  }

  /**
   * The kernel [channel][tap] as [group of 4 channels][tap] f32x4 and thresholds such that bit =
   * y > threshold: (y >= T) XOR flip is y > (the float below T), or for a flipped channel
   * -y > -T with the kernel negated. A channel past the last has kernel 0, threshold +inf: always 0.
   */
  private fillRealSign(kernelAt: number, at: SignLayer, kernel: Float32Array, thresholds: Float32Array, flips: Uint32Array, padded: number): void {
    const { buffer } = this.kernels.memory;
    const out = new Float32Array(buffer, kernelAt, padded * 3);
    const t = new Float32Array(buffer, at.thresholds, padded).fill(Infinity);
    thresholds.forEach((threshold, c) => {
      const sign = flipBit(flips, c) ? -1 : 1;
      for (let tap = 0; tap < 3; tap++) out[((c >> 2) * 3 + tap) * 4 + (c & 3)] = sign * kernel[c * 3 + tap];
      t[c] = sign < 0 ? -threshold : floatBelow(threshold);
    });
  }

  /**
   * bit = (dot >= T) XOR flip with dot = n - 2 * mismatches is (mismatches > floor((n - T) / 2))
   * XOR NOT flip. A channel past the last gets limit -1 and NOT flip set: always 0. Limits `set`
   * of a (1x3) or (3x1) conv is for positions with 3 - set taps inside the input.
   */
  private fillLimits(at: SignLayer, set: number, thresholds: Int16Array, flips: Uint32Array, n: number, padded: number): void {
    const limits = new Int16Array(this.kernels.memory.buffer, at.thresholds + set * padded * 2, padded).fill(-1);
    const notFlips = new Int16Array(this.kernels.memory.buffer, at.flips, padded).fill(-1);
    thresholds.forEach((t, c) => {
      limits[c] = Math.floor((n - t) / 2);
      notFlips[c] = flipBit(flips, c) ? 0 : -1;
    });
  }

  /**
   * Runs one clip's log-mel features (frames x mel bins, row-major) block by block until `rule`
   * says stop; returns the exit (1-based). probabilities[0 .. exit-1] hold those exits' answers.
   */
  run(features: Float32Array, rule: ExitRule): number {
    if (features.length !== this.inputFloats.length)
      throw new BeeError(`expected ${this.inputFloats.length} feature values (frames x mel bins), got ${features.length}`);
    this.inputFloats.set(features);
    const k = this.kernels;
    for (let i = 0; i < this.blocks.length; i++) {
      const b = this.blocks[i];
      const [s13, s31, out] = [b.sign1x3, b.sign3x1, b.signOut];
      if (i === 0) {
        k.realConvsSign(b.input, b.height, b.width, b.conv1x3, b.conv3x1, b.words * 8, s13.thresholds, s31.thresholds, b.concat, 2 * b.words);
      } else {
        k.binConvSign(b.input, b.height, b.width, b.inWords, 0, b.conv1x3, b.words, s13.thresholds, s13.flips!, b.concat, 2 * b.words, 0, this.rows);
        k.binConvSign(b.inputT, b.width, b.height, b.inWords, 1, b.conv3x1, b.words, s31.thresholds, s31.flips!, b.concat, 2 * b.words, b.words, this.rows);
      }
      const g = b.grid;
      k.pointConvPoolSign(
        b.concat,
        b.height,
        b.width,
        2 * b.words,
        b.conv1x1,
        b.words,
        out.thresholds,
        out.flips!,
        b.output,
        b.outputT,
        b.stats,
        this.rows,
        g ? g.cells : 0,
        g ? g.count : 0,
        g ? g.rows : 0,
        g ? g.cellColumns : 0,
        g ? g.columns : 0,
      );
      this.exitHead(i);
      if (shouldExit(this.probabilities[i], i + 1, this.blocks.length, rule)) return i + 1;
    }
    return this.blocks.length;
  }

  /**
   * Exit k: the block's BatchNorm output pooled per channel, a dense layer, softmax. BatchNorm is
   * monotonic per channel, so its max over positions is its value at the largest or the smallest
   * pooled dot product: n - 2 * (smallest or largest mismatch count). It is affine, so its mean
   * over a cell is its value at the cell's mean dot product (the pooled head's means).
   */
  private exitHead(i: number): void {
    const { filters, words: w, stats, grid, exit } = this.blocks[i];
    const { scale, shift } = exit;
    const logits = this.logits[i];
    const features = this.features;
    const n = 2 * filters;
    const minAt = stats >> 1;
    const maxAt = minAt + w * 32;
    for (let c = 0; c < filters; c++) {
      const high = fround(fround((n - 2 * this.memory16[minAt + c]) * scale[c]) + shift[c]);
      const low = fround(fround((n - 2 * this.memory16[maxAt + c]) * scale[c]) + shift[c]);
      features[c] = Math.max(high, low);
    }
    if (grid) {
      const padded = w * 32;
      const cellsAt = grid.cells >> 2;
      for (let c = 0; c < filters; c++) {
        let total = 0;
        for (let cell = 0; cell < grid.count; cell++) {
          const sum = this.memory32[cellsAt + cell * padded + c];
          total += sum;
          features[(2 + cell) * filters + c] = (n - (2 * sum) / grid.sizes[cell]) * scale[c] + shift[c];
        }
        features[filters + c] = (n - (2 * total) / grid.positions) * scale[c] + shift[c];
      }
    }
    exitOutputs(this.kernels, this.scratch, exit, this.temperatures[i], logits, this.own[i], this.statistics?.[i]);
    this.answer(i);
  }
}
