import { cellOf, cellSizes } from '../spec/exit-grid.js';
import { headFeatures, hiddenUnits, type PackedArray, type PackedNetwork, words } from './format.js';
import type { Layout } from '../util/wasm-module.js';
import { type DenseLayer, planDense, tableBytes } from './wasm-kernels.js';

/**
 * A layer's folded BatchNorm + sign in the engine's memory: per channel, float thresholds (the
 * first block, whose kernels carry the flips) or mismatch limits (i16) and flip masks.
 */
export interface SignLayer {
  thresholds: number;
  flips?: number;
}

export interface Block {
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

/** Where the block engine keeps everything in its memory (addresses), and the exits' scales and shifts. */
export interface BlockPlan {
  /** the clip's log-mel features, f32 */
  input: number;
  blocks: Block[];
  /** one exit's pooled features (f64), its hidden layer's and its logits' (f64, padded) */
  scratch: { features: number; hidden: number; logits: number };
  /** the table rows a position selects */
  rows: number;
}

/** The block engine's buffers, block by block, taken from `layout` (planMemory runs it twice: keep it pure). */
export function planBlocks(network: PackedNetwork, tensors: Map<string, PackedArray>, layout: Layout): BlockPlan {
  const { filters, classes, inputShape, exitHead } = network;
  const tensor = <T>(name: string) => tensors.get(name) as T;
  const perFeature = headFeatures(exitHead);
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
  const scratch = {
    features: take(perFeature * Math.max(...filters) * 8),
    hidden: take(Math.ceil(hidden / 4) * 4 * 8),
    logits: take(Math.ceil(classes / 4) * 4 * 8),
  };
  const blocks = filters.map((f, i) => {
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
        ...(hidden ? { hidden: denseLayer(perFeature * f, hidden) } : {}),
        output: denseLayer(hidden || perFeature * f, classes),
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
  const rows = take(4 * (maxRows + 24) * 4);
  return { input: inputAt, blocks, scratch, rows };
}
