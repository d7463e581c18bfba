import { BeeError } from '../errors.js';
import { shouldExit, type ExitRule } from '../spec/exit-rules.js';
import { bodyFilters, familyOf } from '../spec/families.js';
import { headFeatures, type PackedModel, words } from './format.js';
import { PackedEngine } from './packed-engine.js';
import { exitOutputs, fillDense, fillTable, planMemory } from './wasm-kernels.js';
import { type BinaryConv, planStages, type ResidualPlan, type RPReLUWeights, type Stage } from './residual-plan.js';

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
export class ResidualEngine extends PackedEngine {
  private readonly stages: Stage[];
  private readonly inputFloats: Float32Array;
  private readonly stem: ResidualPlan['stem'];
  private readonly scratch: ResidualPlan['scratch'];
  private readonly features: Float64Array;

  constructor(model: PackedModel) {
    super(model);
    const { header, tensors } = model;
    const network = header.network;
    const { filters, inputShape, exitHead } = network;
    if (familyOf(network).body !== 'residual')
      throw new BeeError(`a ${network.arch ?? 'bee'} network runs on BlockEngine`, { hint: 'open packed models with engineFor(model)' });
    const tensor = <T>(name: string) => tensors.get(name) as T;
    const perFeature = headFeatures(exitHead);

    const plan = planMemory(this.kernels, (layout) => planStages(network, layout));
    ({ stem: this.stem, stages: this.stages, scratch: this.scratch } = plan);
    const memory = this.kernels.memory;
    const floats = (at: number, n: number) => new Float32Array(memory.buffer, at, n);
    /** values [n] into a padded vector at `at`, the padding `fill` */
    const put = (at: number, values: Float32Array, padded: number, fill = 0) => floats(at, padded).fill(fill).set(values);
    this.inputFloats = floats(plan.input, inputShape[0] * inputShape[1]);
    this.features = new Float64Array(memory.buffer, this.scratch.features, perFeature * Math.max(...filters));
    // the stem's kernel [C][tap] -> [tap][C padded]
    const c1 = bodyFilters(network, 1);
    const stemPadded = words(c1) * 32;
    const stemKernel = tensor<Float32Array>('block1.stem.kernel');
    const k = floats(this.stem.kernel, 9 * stemPadded);
    for (let ch = 0; ch < c1; ch++) for (let t = 0; t < 9; t++) k[t * stemPadded + ch] = stemKernel[ch * 9 + t];
    put(this.stem.scale, tensor('block1.stem.scale'), stemPadded);
    put(this.stem.shift, tensor('block1.stem.shift'), stemPadded);

    const fillRPReLU = (w: RPReLUWeights, name: string, padded: number) => {
      put(w.gamma, tensor(`${name}.rprelu.gamma`), padded);
      put(w.slope, tensor(`${name}.rprelu.slope`), padded);
      put(w.zeta, tensor(`${name}.rprelu.zeta`), padded);
    };
    const fillConv = (conv: BinaryConv, name: string, outputs: number, padded: number, inPadded: number, runWords: number) => {
      // a padding channel's threshold is +inf: its bit stays 0, and matches the kernels' 0 bits there
      put(conv.threshold, tensor(`${name}.threshold`), inPadded, Infinity);
      fillTable(memory, conv.table, tensor(`${name}.signs`), outputs, padded, runWords);
      put(conv.alpha, tensor(`${name}.alpha`), padded);
      put(conv.scale, tensor(`${name}.scale`), padded);
      put(conv.shift, tensor(`${name}.shift`), padded);
      if (conv.rprelu) fillRPReLU(conv.rprelu, name, padded);
    };
    this.stages.forEach((s, i) => {
      const b = i + 1;
      const [cPad, fPad] = [s.cWords * 32, s.fWords * 32];
      fillConv(s.conv1x1, `block${b}.conv1x1`, s.f, fPad, cPad, s.cWords);
      if (s.shortcut) {
        // the shortcut's kernel [C][f] -> [C][f padded]
        const kernel = tensor<Float32Array>(`block${b}.shortcut.kernel`);
        const sk = floats(s.shortcut.kernel, s.c * fPad);
        for (let ch = 0; ch < s.c; ch++) sk.set(kernel.subarray(ch * s.f, (ch + 1) * s.f), ch * fPad);
        put(s.shortcut.scale, tensor(`block${b}.shortcut.scale`), fPad);
        put(s.shortcut.shift, tensor(`block${b}.shortcut.shift`), fPad);
      }
      if (s.rprelu) fillRPReLU(s.rprelu, `block${b}`, fPad);
      fillConv(s.conv1x3, `block${b}.conv1x3`, s.f, fPad, fPad, 3 * s.fWords);
      fillConv(s.conv3x1, `block${b}.conv3x1`, s.f, fPad, fPad, 3 * s.fWords);
      const { grid } = s.exit;
      if (grid) {
        new Int32Array(memory.buffer, grid.rows, grid.rowCells.length).set(grid.rowCells);
        new Int32Array(memory.buffer, grid.cellColumns, grid.columnCells.length).set(grid.columnCells);
      }
      if (s.exit.hidden) fillDense(memory, s.exit.hidden, tensor(`exit${b}.hidden.kernel`), tensor(`exit${b}.hidden.bias`));
      fillDense(memory, s.exit.output, tensor(`exit${b}.kernel`), tensor(`exit${b}.bias`));
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
    exitOutputs(k, this.scratch, exit, this.temperatures[i], this.logits[i], this.own[i], this.statistics?.[i]);
    this.answer(i);
  }
}
