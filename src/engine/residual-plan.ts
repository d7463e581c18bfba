import { cellOf, cellSizes } from '../spec/exit-grid.js';
import { bodyFilters, familyOf } from '../spec/families.js';
import { headFeatures, hiddenUnits, type PackedNetwork, words } from './format.js';
import type { Layout } from '../util/wasm-module.js';
import { type DenseLayer, planDense, tableBytes } from './wasm-kernels.js';

/** A binary convolution in engine memory: its sign's thresholds, mismatch table, kernel scale, BatchNorm and RPReLU (addresses). */
export interface BinaryConv {
  threshold: number;
  table: number;
  alpha: number;
  scale: number;
  shift: number;
  rprelu?: RPReLUWeights;
}

export interface RPReLUWeights {
  gamma: number;
  slope: number;
  zeta: number;
}

export interface Stage {
  /** input channels (C) and output channels (f), each padded to words of 32 */
  c: number;
  cWords: number;
  f: number;
  fWords: number;
  /** the input's resolution; the stage works at half of it */
  height: number;
  width: number;
  /** the stage's real input [height][width][C padded] f32: the stem's output, or the previous stage's h */
  x: number;
  /** sign bits of x for the (1x1) conv [position][C words], row-major */
  inputBits: number;
  /** sign bits of h for the (1x3) conv (row-major) and the (3x1) conv (column-major) [position][f words] */
  bits1x3: number;
  bits3x1: number;
  conv1x1: BinaryConv;
  /** the real (1x1) shortcut's weights (bireal); null: the channels are tiled (reactnet) */
  shortcut: { kernel: number; scale: number; shift: number } | null;
  rprelu?: RPReLUWeights;
  conv1x3: BinaryConv;
  conv3x1: BinaryConv;
  /** the stage's real activations [pooled position][f padded] f32: the exit head's input and the next stage's x */
  h: number;
  exit: {
    max: number;
    sums: number;
    grid: { count: number; columns: number; rows: number; cellColumns: number; rowCells: Int32Array; columnCells: Int32Array; sizes: Float64Array } | null;
    positions: number;
    hidden?: DenseLayer;
    output: DenseLayer;
  };
}

/** Where the residual engine keeps everything in its memory (addresses). */
export interface ResidualPlan {
  /** the clip's log-mel features, f32 */
  input: number;
  /** the real (3x3) stem's kernel [tap][C padded], BatchNorm scale and shift */
  stem: { kernel: number; scale: number; shift: number };
  stages: Stage[];
  /** one exit's pooled features (f64), its hidden layer's and its logits' (f64, padded); the shortcut's averages; selected table rows */
  scratch: { features: number; hidden: number; logits: number; avg: number; rows: number };
}

/** The residual engine's buffers, stage by stage, taken from `layout` (planMemory runs it twice: keep it pure). */
export function planStages(network: PackedNetwork, layout: Layout): ResidualPlan {
  const { filters, classes, inputShape, exitHead } = network;
  const { rprelu, shortcut } = familyOf(network);
  const perFeature = headFeatures(exitHead);
  const hidden = hiddenUnits(exitHead);
  const take = (n: number) => layout.take(n);
  let [height, width] = inputShape;
  const inputAt = take(height * width * 4);
  const c1 = bodyFilters(network, 1);
  const stemPadded = words(c1) * 32;
  const stem = { kernel: take(9 * stemPadded * 4), scale: take(stemPadded * 4), shift: take(stemPadded * 4) };
  let x = take(height * width * stemPadded * 4);
  let maxRunWords = 0;
  const rpreluWeights = (padded: number) => ({ gamma: take(padded * 4), slope: take(padded * 4), zeta: take(padded * 4) });
  const binaryConv = (runWords: number, padded: number, inPadded: number, withRPReLU: boolean): BinaryConv => {
    maxRunWords = Math.max(maxRunWords, runWords);
    return {
      threshold: take(inPadded * 4),
      table: take(tableBytes(runWords, padded)),
      alpha: take(padded * 4),
      scale: take(padded * 4),
      shift: take(padded * 4),
      ...(withRPReLU ? { rprelu: rpreluWeights(padded) } : {}),
    };
  };
  let maxAverages = 0;
  let inputBits = take(height * width * words(c1) * 4);
  const stages = filters.map((f, i) => {
    const c = bodyFilters(network, i + 1);
    const [cWords, fWords] = [words(c), words(f)];
    const [cPad, fPad] = [cWords * 32, fWords * 32];
    const [ph, pw] = [height >> 1, width >> 1];
    maxAverages = Math.max(maxAverages, ph * pw * cPad);
    const grid =
      exitHead.type === 'pooled'
        ? {
            count: exitHead.grid[0] * exitHead.grid[1],
            columns: exitHead.grid[1],
            rows: take(ph * 4),
            cellColumns: take(pw * 4),
            rowCells: cellOf(ph, exitHead.grid[0]),
            columnCells: cellOf(pw, exitHead.grid[1]),
            sizes: cellSizes(ph, pw, exitHead.grid),
          }
        : null;
    const stage: Stage = {
      c,
      cWords,
      f,
      fWords,
      height,
      width,
      x,
      inputBits,
      bits1x3: take(ph * pw * fWords * 4),
      bits3x1: take(ph * pw * fWords * 4),
      conv1x1: binaryConv(cWords, fPad, cPad, false),
      shortcut: shortcut === 'conv' ? { kernel: take(c * fPad * 4), scale: take(fPad * 4), shift: take(fPad * 4) } : null,
      ...(rprelu ? { rprelu: rpreluWeights(fPad) } : {}),
      conv1x3: binaryConv(3 * fWords, fPad, fPad, rprelu),
      conv3x1: binaryConv(3 * fWords, fPad, fPad, rprelu),
      h: take(ph * pw * fPad * 4),
      exit: {
        max: take(fPad * 4),
        sums: take((grid?.count ?? 0) * fPad * 8),
        grid,
        positions: ph * pw,
        ...(hidden ? { hidden: planDense(layout, perFeature * f, hidden) } : {}),
        output: planDense(layout, hidden || perFeature * f, classes),
      },
    };
    x = stage.h;
    // the next stage's (1x1) input bits, written by this stage's (3x1) conv
    if (i + 1 < filters.length) inputBits = take(ph * pw * fWords * 4);
    [height, width] = [ph, pw];
    return stage;
  });
  const scratch = {
    features: take(perFeature * Math.max(...filters) * 8),
    hidden: take(Math.ceil(hidden / 4) * 4 * 8),
    logits: take(Math.ceil(classes / 4) * 4 * 8),
    avg: take(shortcut === 'conv' ? maxAverages * 4 : 0),
    // four windows of selected rows, each up to three words' rows over (see the block engine)
    rows: take(4 * (maxRunWords * 8 + 24) * 4),
  };
  take(64); // the kernels read up to three words past a run of bits: still inside the reservation
  return { input: inputAt, stem, stages, scratch };
}
