import { BeeError } from '../errors.js';
import { shouldExit, type ExitRule } from '../spec/exit-rules.js';
import { cellOf, cellSizes } from '../spec/exit-grid.js';
import { headFeatures, hiddenUnits, type PackedModel, residualOf, words } from './format.js';
import { Engine } from './engine.js';
import { floatBelow } from './float-order.js';
import { type DenseLayer, exitOutputs, fillDense, fillTable, Layout, planDense, tableBytes } from './wasm-kernels.js';

/**
 * A layer's folded BatchNorm + sign in the engine's memory: per channel, float thresholds (the
 * first block, whose kernels carry the flips) or mismatch limits (i16) and flip masks.
 */
interface SignLayer {
  thresholds: number;
  flips?: number;
}

interface Block {
  filters: number;
  /** output words per position: 32 channels each, the last padded */
  words: number;
  height: number;
  width: number;
  /** input words per position (the first block's input is one real value) */
  inWords: number;
  /** row-major [height][width][inWords], and column-major (for the (3x1) conv) */
  input: number;
  inputT: number;
  /** the first block's float kernels, or a binary conv's mismatch table */
  conv1x3: number;
  conv3x1: number;
  sign1x3: SignLayer;
  sign3x1: SignLayer;
  /** the (1x3) and (3x1) outputs side by side: [position][2 * words] */
  concat: number;
  conv1x1: number;
  signOut: SignLayer;
  /** the next block's input: [pooled position][words], row-major, then column-major */
  output: number;
  outputT: number;
  /** per channel, the smallest then the largest pooled mismatch count of the (1x1) conv (u16) */
  stats: number;
  /**
   * The pooled exit head's grid: `cells` holds per cell and channel the sum of the pooled counts
   * (u32); `rows` and `cellColumns` the cell row of each pooled row and the cell column of each
   * pooled column (i32, filled from rowCells and columnCells); sizes: positions per cell.
   */
  grid: {
    cells: number;
    count: number;
    columns: number;
    rows: number;
    cellColumns: number;
    rowCells: Int32Array;
    columnCells: Int32Array;
    sizes: Float64Array;
    positions: number;
  } | null;
  exit: { scale: Float32Array; shift: Float32Array; hidden?: DenseLayer; output: DenseLayer };
}

const fround = Math.fround;
const flipBit = (flips: Uint32Array, c: number) => (flips[c >> 5] >>> (c & 31)) & 1;

/**
 * The packed binary network, run on bits in WebAssembly SIMD, one clip at a time,
 * block by block with the same early-exit rules as `bee eval`. Everything is laid out once at
 * load; running a clip allocates nothing: it writes each exit's softmax into `probabilities`.
 */
export class BlockEngine extends Engine {
  private readonly blocks: Block[];
  private readonly inputFloats: Float32Array;
  /** all of the engine's memory as u16 and u32, for the exit heads' statistics */
  private readonly memory16: Uint16Array;
  private readonly memory32: Uint32Array;
  /** statistics per channel an exit head reads (1: the paper's max) */
  private readonly headFeatures: number;
  /** engine memory: one exit's pooled features (f64), its hidden layer's and its logits' (f64, padded) */
  private features!: Float64Array;
  private readonly scratch: { features: number; hidden: number; logits: number };
  /** scratch: the table rows a position selects */
  private readonly rows: number;

  constructor(model: PackedModel) {
    super(model);
    const { header, tensors } = model;
    const { filters, classes, inputShape, exitHead } = header.network;
    if (residualOf(header.network))
      throw new BeeError(`a ${header.network.arch} network runs on ResidualEngine`, { hint: 'open packed models with engineFor(model)' });
    const tensor = <T>(name: string) => tensors.get(name) as T;
    this.headFeatures = headFeatures(exitHead);

    // Lay out every buffer as 16-byte aligned offsets, reserve them at once, then fill them.
    const layout = new Layout();
    const take = (size: number) => layout.take(size);
    let [height, width] = inputShape;
    const inputAt = take(height * width * 4);
    let [input, inputT] = [inputAt, inputAt];
    let maxRows = 0;
    /** a binary conv's table: a row of a byte per (padded) channel for each value of each input nibble */
    const table = (inWords: number, channels: number) => {
      maxRows = Math.max(maxRows, inWords * 8);
      return take(tableBytes(inWords, channels));
    };
    const cellGrid = (padded: number) => {
      if (exitHead.type !== 'pooled') return null;
      const [gridRows, gridColumns] = exitHead.grid;
      const [h, w] = [height >> 1, width >> 1];
      const count = gridRows * gridColumns;
      const sizes = cellSizes(h, w, exitHead.grid);
      const [rowCells, columnCells] = [cellOf(h, gridRows), cellOf(w, gridColumns)];
      return {
        cells: take(count * padded * 4),
        count,
        columns: gridColumns,
        rows: take(h * 4),
        cellColumns: take(w * 4),
        rowCells,
        columnCells,
        sizes,
        positions: h * w,
      };
    };
    const hidden = hiddenUnits(exitHead);
    const denseLayer = (inputs: number, units: number) => planDense(layout, inputs, units);
    this.scratch = {
      features: take(this.headFeatures * Math.max(...filters) * 8),
      hidden: take(Math.ceil(hidden / 4) * 4 * 8),
      logits: take(Math.ceil(classes / 4) * 4 * 8),
    };
    this.blocks = filters.map((f, i) => {
      const padded = words(f) * 32;
      const inWords = i === 0 ? 1 : words(filters[i - 1]);
      const conv = () => (i === 0 ? take(padded * 3 * 4) : table(3 * inWords, padded));
      const sign = (limitSets: number) => (i === 0 ? { thresholds: take(padded * 4) } : { thresholds: take(limitSets * padded * 2), flips: take(padded * 2) });
      const block: Block = {
        filters: f,
        words: words(f),
        height,
        width,
        inWords,
        input,
        inputT,
        conv1x3: conv(),
        conv3x1: conv(),
        // by the taps a position has inside the input: 3, 2 (on the border), 1 (a one-wide input)
        sign1x3: sign(i === 0 ? 1 : 3),
        sign3x1: sign(i === 0 ? 1 : 3),
        concat: take(height * width * 2 * words(f) * 4),
        conv1x1: table(2 * words(f), padded),
        signOut: { thresholds: take(padded * 2), flips: take(padded * 2) },
        output: take((height >> 1) * (width >> 1) * words(f) * 4),
        outputT: take((height >> 1) * (width >> 1) * words(f) * 4),
        stats: take(2 * padded * 2),
        grid: cellGrid(padded),
        exit: {
          scale: tensor(`block${i + 1}.bn.scale`),
          shift: tensor(`block${i + 1}.bn.shift`),
          ...(hidden ? { hidden: denseLayer(this.headFeatures * f, hidden) } : {}),
          output: denseLayer(hidden || this.headFeatures * f, classes),
        },
      };
      [input, inputT] = [block.output, block.outputT];
      [height, width] = [height >> 1, width >> 1];
      return block;
    });
    // The selected table rows of a (1x1) conv's four pooled positions, or of a (1x3) conv's three
    // taps; the kernels select four words' rows at a time, so up to three words' more. (They also
    // read up to three words past a run: still inside the reservation, as every buffer they read
    // is followed by another.)
    const rowsAt = take(4 * (maxRows + 24) * 4);

    // Offsets become addresses. The memory never grows after this one reservation, so views of it stay valid.
    const base = layout.reserve(this.kernels);
    const buffer = this.kernels.memory.buffer;
    this.memory16 = new Uint16Array(buffer);
    this.memory32 = new Uint32Array(buffer);
    this.rows = base + rowsAt;
    this.inputFloats = new Float32Array(buffer, base + inputAt, inputShape[0] * inputShape[1]);
    for (const key of ['features', 'hidden', 'logits'] as const) this.scratch[key] += base;
    this.features = new Float64Array(buffer, this.scratch.features, this.headFeatures * Math.max(...filters));
    // [inputs][units] as trained -> [inputs][units padded to 4] in engine memory
    this.blocks.forEach((block, i) => {
      const b = i + 1;
      for (const key of ['input', 'inputT', 'conv1x3', 'conv3x1', 'concat', 'conv1x1', 'output', 'outputT', 'stats'] as const) block[key] += base;
      const memory = this.kernels.memory;
      if (block.exit.hidden) fillDense(memory, base, block.exit.hidden, tensor(`exit${b}.hidden.kernel`), tensor(`exit${b}.hidden.bias`));
      fillDense(memory, base, block.exit.output, tensor(`exit${b}.kernel`), tensor(`exit${b}.bias`));
      const { grid } = block;
      if (grid) {
        for (const key of ['cells', 'rows', 'cellColumns'] as const) grid[key] += base;
        new Int32Array(buffer, grid.rows, grid.rowCells.length).set(grid.rowCells);
        new Int32Array(buffer, grid.cellColumns, grid.columnCells.length).set(grid.columnCells);
      }
      for (const s of [block.sign1x3, block.sign3x1, block.signOut]) {
        s.thresholds += base;
        if (s.flips !== undefined) s.flips += base;
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
   * says stop; returns the exit (1-based). probabilities[0 .. exit-1] hold those exits' softmax.
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
    exitOutputs(this.kernels, this.scratch, exit, this.temperatures[i], logits, this.probabilities[i], this.statistics?.[i]);
  }
}
