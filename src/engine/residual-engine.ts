import { BeeError } from '../errors.js';
import { shouldExit, type ExitRule } from '../spec/exit-rules.js';
import { bodyFilters } from '../spec/families.js';
import { cellOf, cellSizes } from '../spec/exit-grid.js';
import { headFeatures, hiddenUnits, type PackedModel, residualOf, words } from './format.js';
import { Engine } from './engine.js';
import { type DenseLayer, exitOutputs, fillDense, fillTable, Layout, planDense, tableBytes } from './wasm-kernels.js';

/** A binary convolution in engine memory: its sign's thresholds, mismatch table, kernel scale, BatchNorm and RPReLU (addresses). */
interface BinaryConv {
  threshold: number;
  table: number;
  alpha: number;
  scale: number;
  shift: number;
  rprelu?: RPReLUWeights;
}

interface RPReLUWeights {
  gamma: number;
  slope: number;
  zeta: number;
}

interface Stage {
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

/**
 * The packed engine for the residual families (bireal, reactnet): real activations stay real
 * (float32, as TensorFlow keeps them) and are signed again, to bits, before every binary
 * convolution; binary convolutions run on mismatch tables as the block engine's, their scaled and
 * BatchNorm'd dot products added back into the activations; the stem, the shortcuts' (1x1)
 * convolutions and RPReLU in float32 SIMD. Every float32 operation is the model's at inference,
 * rounding for rounding (the shortcuts' FMAs emulated in float64), so h is TensorFlow's bit for
 * bit and so is every sign; the exit heads' pooling and dense layers sum in float64, within
 * float32 ulps of TensorFlow's logits.
 */
export class ResidualEngine extends Engine {
  private readonly stages: Stage[];
  private readonly inputFloats: Float32Array;
  private readonly stem: { kernel: number; scale: number; shift: number };
  private readonly scratch: { features: number; hidden: number; logits: number; avg: number; rows: number };
  private readonly features: Float64Array;

  constructor(model: PackedModel) {
    super(model);
    const { header, tensors } = model;
    const network = header.network;
    const { filters, classes, inputShape, exitHead } = network;
    const tensor = <T>(name: string) => tensors.get(name) as T;
    const { rprelu, shortcut } = residualOf(network)!;
    const perFeature = headFeatures(exitHead);
    const hidden = hiddenUnits(exitHead);

    const layout = new Layout();
    const take = (n: number) => layout.take(n);
    let [height, width] = inputShape;
    const inputAt = take(height * width * 4);
    const c1 = bodyFilters(network, 1);
    const stemPadded = words(c1) * 32;
    this.stem = { kernel: take(9 * stemPadded * 4), scale: take(stemPadded * 4), shift: take(stemPadded * 4) };
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
    this.stages = filters.map((f, i) => {
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
    this.scratch = {
      features: take(perFeature * Math.max(...filters) * 8),
      hidden: take(Math.ceil(hidden / 4) * 4 * 8),
      logits: take(Math.ceil(classes / 4) * 4 * 8),
      avg: take(shortcut === 'conv' ? maxAverages * 4 : 0),
      // four windows of selected rows, each up to three words' rows over (see the block engine)
      rows: take(4 * (maxRunWords * 8 + 24) * 4),
    };
    take(64); // the kernels read up to three words past a run of bits: still inside the reservation

    const base = layout.reserve(this.kernels);
    const memory = this.kernels.memory;
    const floats = (at: number, n: number) => new Float32Array(memory.buffer, at, n);
    /** values [n] into a padded vector at `at` (+ base), the padding `fill` */
    const put = (at: number, values: Float32Array, padded: number, fill = 0) => {
      const v = floats(at + base, padded).fill(fill);
      v.set(values);
      return at + base;
    };
    this.inputFloats = floats(base + inputAt, inputShape[0] * inputShape[1]);
    for (const key of Object.keys(this.scratch) as (keyof typeof this.scratch)[]) this.scratch[key] += base;
    this.features = new Float64Array(memory.buffer, this.scratch.features, perFeature * Math.max(...filters));
    // the stem's kernel [C][tap] -> [tap][C padded]
    const stemKernel = tensor<Float32Array>('block1.stem.kernel');
    this.stem.kernel += base;
    const k = floats(this.stem.kernel, 9 * stemPadded);
    for (let ch = 0; ch < c1; ch++) for (let t = 0; t < 9; t++) k[t * stemPadded + ch] = stemKernel[ch * 9 + t];
    this.stem.scale = put(this.stem.scale, tensor('block1.stem.scale'), stemPadded);
    this.stem.shift = put(this.stem.shift, tensor('block1.stem.shift'), stemPadded);

    const fillRPReLU = (w: RPReLUWeights, name: string, padded: number) => {
      w.gamma = put(w.gamma, tensor(`${name}.rprelu.gamma`), padded);
      w.slope = put(w.slope, tensor(`${name}.rprelu.slope`), padded);
      w.zeta = put(w.zeta, tensor(`${name}.rprelu.zeta`), padded);
    };
    const fillConv = (conv: BinaryConv, name: string, outputs: number, padded: number, inPadded: number, runWords: number) => {
      // a padding channel's threshold is +inf: its bit stays 0, and matches the kernels' 0 bits there
      conv.threshold = put(conv.threshold, tensor(`${name}.threshold`), inPadded, Infinity);
      conv.table += base;
      fillTable(memory, conv.table, tensor(`${name}.signs`), outputs, padded, runWords);
      conv.alpha = put(conv.alpha, tensor(`${name}.alpha`), padded);
      conv.scale = put(conv.scale, tensor(`${name}.scale`), padded);
      conv.shift = put(conv.shift, tensor(`${name}.shift`), padded);
      if (conv.rprelu) fillRPReLU(conv.rprelu, name, padded);
    };
    this.stages.forEach((s, i) => {
      const b = i + 1;
      const [cPad, fPad] = [s.cWords * 32, s.fWords * 32];
      for (const key of ['x', 'inputBits', 'bits1x3', 'bits3x1', 'h'] as const) s[key] += base;
      fillConv(s.conv1x1, `block${b}.conv1x1`, s.f, fPad, cPad, s.cWords);
      if (s.shortcut) {
        // the shortcut's kernel [C][f] -> [C][f padded]
        const kernel = tensor<Float32Array>(`block${b}.shortcut.kernel`);
        s.shortcut.kernel += base;
        const sk = floats(s.shortcut.kernel, s.c * fPad);
        for (let ch = 0; ch < s.c; ch++) sk.set(kernel.subarray(ch * s.f, (ch + 1) * s.f), ch * fPad);
        s.shortcut.scale = put(s.shortcut.scale, tensor(`block${b}.shortcut.scale`), fPad);
        s.shortcut.shift = put(s.shortcut.shift, tensor(`block${b}.shortcut.shift`), fPad);
      }
      if (s.rprelu) fillRPReLU(s.rprelu, `block${b}`, fPad);
      fillConv(s.conv1x3, `block${b}.conv1x3`, s.f, fPad, fPad, 3 * s.fWords);
      fillConv(s.conv3x1, `block${b}.conv3x1`, s.f, fPad, fPad, 3 * s.fWords);
      const { exit } = s;
      exit.max += base;
      exit.sums += base;
      if (exit.grid) {
        exit.grid.rows += base;
        exit.grid.cellColumns += base;
        new Int32Array(memory.buffer, exit.grid.rows, exit.grid.rowCells.length).set(exit.grid.rowCells);
        new Int32Array(memory.buffer, exit.grid.cellColumns, exit.grid.columnCells.length).set(exit.grid.columnCells);
      }
      if (exit.hidden) fillDense(memory, base, exit.hidden, tensor(`exit${b}.hidden.kernel`), tensor(`exit${b}.hidden.bias`));
      fillDense(memory, base, exit.output, tensor(`exit${b}.kernel`), tensor(`exit${b}.bias`));
    });
  }

  /** As BlockEngine.run: one clip's log-mel features, stage by stage until `rule` says stop; returns the exit (1-based). */
  run(features: Float32Array, rule: ExitRule): number {
    if (features.length !== this.inputFloats.length)
      throw new BeeError(`expected ${this.inputFloats.length} feature values (frames x mel bins), got ${features.length}`);
    this.inputFloats.set(features);
    const k = this.kernels;
    const first = this.stages[0];
    const none = { gamma: 0, slope: 0, zeta: 0 };
    k.stemConv(
      this.inputFloats.byteOffset,
      first.height,
      first.width,
      this.stem.kernel,
      first.cWords * 32,
      Math.ceil(first.c / 4),
      this.stem.scale,
      this.stem.shift,
      first.x,
    );
    k.signBits(first.x, first.height * first.width, first.cWords, 0, 0, 0, 0, first.conv1x1.threshold, first.inputBits);
    for (let i = 0; i < this.stages.length; i++) {
      const s = this.stages[i];
      const { height: H, width: W, cWords, fWords, h } = s;
      const [ph, pw] = [H >> 1, W >> 1];
      const fPad = fWords * 32;
      const rows = this.scratch.rows;
      k.pointConvPoolResidual(s.inputBits, H, W, cWords, s.conv1x1.table, fWords, s.c, s.conv1x1.alpha, s.conv1x1.scale, s.conv1x1.shift, h, rows);
      if (s.shortcut) k.shortcutAdd(s.x, H, W, cWords * 32, s.c, s.shortcut.kernel, fPad, s.shortcut.scale, s.shortcut.shift, h, this.scratch.avg);
      else k.shortcutTile(s.x, H, W, cWords * 32, s.c, fPad, s.f, h);
      const rp = s.rprelu ?? none;
      k.signBits(h, ph * pw, fWords, s.rprelu ? 1 : 0, rp.gamma, rp.slope, rp.zeta, s.conv1x3.threshold, s.bits1x3);
      const r13 = s.conv1x3.rprelu ?? none;
      k.binConvResidual(
        s.bits1x3,
        ph,
        pw,
        fWords,
        0,
        s.conv1x3.table,
        fWords,
        s.f,
        s.conv1x3.alpha,
        s.conv1x3.scale,
        s.conv1x3.shift,
        h,
        rows,
        s.conv1x3.rprelu ? 1 : 0,
        r13.gamma,
        r13.slope,
        r13.zeta,
        s.conv3x1.threshold,
        s.bits3x1,
      );
      // the (3x1) conv signs its result for the next stage's (1x1) conv
      const next = this.stages[i + 1];
      const r31 = s.conv3x1.rprelu ?? none;
      k.binConvResidual(
        s.bits3x1,
        pw,
        ph,
        fWords,
        1,
        s.conv3x1.table,
        fWords,
        s.f,
        s.conv3x1.alpha,
        s.conv3x1.scale,
        s.conv3x1.shift,
        h,
        rows,
        s.conv3x1.rprelu ? 1 : 0,
        r31.gamma,
        r31.slope,
        r31.zeta,
        next ? next.conv1x1.threshold : 0,
        next ? next.inputBits : 0,
      );
      this.exitHead(i);
      if (shouldExit(this.probabilities[i], i + 1, this.stages.length, rule)) return i + 1;
    }
    return this.stages.length;
  }

  /** Stage i's real output h [position][channel] as the last run left it (a copy): the model's, bit for bit. */
  stageOutput(i: number): Float32Array {
    const s = this.stages[i];
    const [positions, fPad] = [(s.height >> 1) * (s.width >> 1), s.fWords * 32];
    const h = new Float32Array(this.kernels.memory.buffer, s.h, positions * fPad);
    const out = new Float32Array(positions * s.f);
    for (let p = 0; p < positions; p++) out.set(h.subarray(p * fPad, p * fPad + s.f), p * s.f);
    return out;
  }

  /** Exit i: the stage's output pooled per channel (max, mean, grid means), the dense layers, softmax. */
  private exitHead(i: number): void {
    const s = this.stages[i];
    const { exit, f } = s;
    const fPad = s.fWords * 32;
    const g = exit.grid;
    const k = this.kernels;
    k.poolStats(s.h, s.height >> 1, s.width >> 1, fPad, exit.max, exit.sums, g ? g.count : 0, g ? g.rows : 0, g ? g.cellColumns : 0, g ? g.columns : 0);
    const buffer = k.memory.buffer;
    const max = new Float32Array(buffer, exit.max, f);
    const features = this.features;
    for (let c = 0; c < f; c++) features[c] = max[c];
    if (g) {
      const sums = new Float64Array(buffer, exit.sums, g.count * fPad);
      for (let c = 0; c < f; c++) {
        let total = 0;
        for (let cell = 0; cell < g.count; cell++) {
          const sum = sums[cell * fPad + c];
          total += sum;
          features[(2 + cell) * f + c] = sum / g.sizes[cell];
        }
        features[f + c] = total / exit.positions;
      }
    }
    exitOutputs(k, this.scratch, exit, this.temperatures[i], this.logits[i], this.probabilities[i], this.statistics?.[i]);
  }
}
