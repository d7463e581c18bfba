import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import { BatchNorm } from './batch-norm.js';
import { ExitPooling } from './exit-pooling.js';
import { QuantActivation, QuantConv2D, QuantDense } from './layers.js';

export type Precision = 'binary' | 'float';

/**
 * paper: GlobalMaxPool -> Dense; pooled: max, mean and a time x frequency grid of means
 * (ExitPooling) -> Dense, or with `hidden` > 0 -> Dense(hidden) -> ReLU -> Dense.
 */
export type ExitHead = { type: 'paper' } | { type: 'pooled'; grid: [number, number]; hidden?: number };

/** Everything needed to rebuild the network; saved with a model. */
export interface NetworkConfig {
  /** [frames, mel bins, 1] */
  inputShape: [number, number, number];
  classes: number;
  precision: Precision;
  /** Channels of the four blocks: the paper's 32, 64, 128, 256 times the width multiplier. */
  filters: number[];
  /** Seed of the initial weights. */
  seed: number;
  /** The fields below came after bee 0.1's first models; a saved config without them means the value in LEGACY_NETWORK. */
  exitHead: ExitHead;
  /** Of every BatchNorm's moving statistics (Keras: 0.99). */
  bnMomentum: number;
  /** Binary networks: the first block's two convolutions keep real weights (their input is the real log-mel). */
  realFirstBlock: boolean;
  /** Binary networks: binary kernels carry a per-output-channel scale (magnitude_aware_sign, XNOR-Net). */
  scaledKernels: boolean;
  /** Binary networks: a learnable per-channel threshold before every sign activation (RSign). */
  signShift: boolean;
}

export const PAPER_FILTERS = [32, 64, 128, 256];

export type NetworkOptions = Pick<NetworkConfig, 'exitHead' | 'bnMomentum' | 'realFirstBlock' | 'scaledKernels' | 'signShift'>;

/** What a saved config without a field meant: the network as bee 0.1 first built it (the paper's). */
export const LEGACY_NETWORK: NetworkOptions = { exitHead: { type: 'paper' }, bnMomentum: 0.99, realFirstBlock: false, scaledKernels: false, signShift: false };

/** The network bee builds unless told otherwise: the ablation in README says what each part buys. */
export const DEFAULT_NETWORK: NetworkOptions = {
  exitHead: { type: 'pooled', grid: [4, 2] },
  bnMomentum: 0.9,
  realFirstBlock: true,
  scaledKernels: false,
  signShift: false,
};

export function networkConfig(
  args: { inputShape: [number, number, number]; classes: number; precision?: Precision; width?: number; seed?: number } & Partial<NetworkOptions>,
): NetworkConfig {
  const width = args.width ?? 1;
  if (!(width > 0 && width <= 8)) throw new BeeError(`width multiplier must be in (0, 8], got ${width}`, { hint: 'try --width 0.25 for a quick model' });
  const precision = args.precision ?? 'binary';
  const binary = precision === 'binary';
  const config: NetworkConfig = {
    inputShape: args.inputShape,
    classes: args.classes,
    precision,
    filters: PAPER_FILTERS.map((f) => Math.max(1, Math.round(f * width))),
    seed: args.seed ?? 0,
    exitHead: args.exitHead ?? DEFAULT_NETWORK.exitHead,
    bnMomentum: args.bnMomentum ?? DEFAULT_NETWORK.bnMomentum,
    // What a float network is, whatever was asked: real everywhere, nothing to scale or shift before a sign.
    realFirstBlock: binary ? (args.realFirstBlock ?? DEFAULT_NETWORK.realFirstBlock) : true,
    scaledKernels: binary && (args.scaledKernels ?? DEFAULT_NETWORK.scaledKernels),
    signShift: binary && (args.signShift ?? DEFAULT_NETWORK.signShift),
  };
  checkNetwork(config);
  return config;
}

/** Throws a BeeError where a config's options do not fit together (bee train's flags, or a saved bee.json). */
export function checkNetwork(config: NetworkConfig): void {
  if (!(config.bnMomentum >= 0 && config.bnMomentum < 1))
    throw new BeeError(`BatchNorm momentum must be in [0, 1), got ${config.bnMomentum}`, { hint: 'e.g. --bn-momentum 0.9' });
  if (config.exitHead.type === 'pooled') {
    const [rows, cols] = config.exitHead.grid;
    // The last block sees the input halved once per block.
    const [height, width] = [config.inputShape[0] >> config.filters.length, config.inputShape[1] >> config.filters.length];
    if (![rows, cols].every((n) => Number.isInteger(n) && n >= 1) || rows > height || cols > width) {
      throw new BeeError(`exit grid ${rows}x${cols} does not fit the last block's ${height} x ${width} positions`, {
        hint: `e.g. --exit-grid 4x2; at most ${height}x${width}`,
      });
    }
    const hidden = config.exitHead.hidden ?? 0;
    if (!(Number.isInteger(hidden) && hidden >= 0 && hidden <= 4096))
      throw new BeeError(`the exit head's hidden layer must have 0-4096 units, got ${hidden}`, { hint: 'e.g. --exit-hidden 64, or 0 for none' });
  }
}

/** A saved config with the fields it lacks filled in as the version that wrote it meant them. */
export function completeNetworkConfig(saved: Partial<NetworkConfig> & Omit<NetworkConfig, keyof NetworkOptions>): NetworkConfig {
  return { ...LEGACY_NETWORK, ...saved };
}

/** Layer names, for finding a block's parts in a built or loaded model. */
export const layerName = {
  conv13: (block: number) => `block${block}_conv1x3`,
  bn13: (block: number) => `block${block}_bn1x3`,
  act13: (block: number) => `block${block}_act1x3`,
  conv31: (block: number) => `block${block}_conv3x1`,
  bn31: (block: number) => `block${block}_bn3x1`,
  act31: (block: number) => `block${block}_act3x1`,
  concat: (block: number) => `block${block}_concat`,
  conv11: (block: number) => `block${block}_conv1x1`,
  pool: (block: number) => `block${block}_pool`,
  /** The block's last BatchNorm: its output feeds the exit head and, through the activation, the next block. */
  bn: (block: number) => `block${block}_bn`,
  act: (block: number) => `block${block}_act`,
  exitPool: (block: number) => `exit${block}_pool`,
  exitHidden: (block: number) => `exit${block}_hidden`,
  exitHiddenAct: (block: number) => `exit${block}_hidden_act`,
  exit: (block: number) => `exit${block}`,
};

/** The layer of that name, or undefined where the network has none (an exit head without a hidden layer). */
type LayerLookup = (name: string) => tf.layers.Layer | undefined;

/**
 * Applies block b (and its exit head) to x with the layers `layer` finds by name: the one place
 * the block's wiring lives, for building the network and for cutting a loaded one into stages.
 * Returns the exit's logits and, unless it is the last block, the next block's input.
 */
export function wireBlock(layer: LayerLookup, b: number, x: tf.SymbolicTensor, last: boolean): { logits: tf.SymbolicTensor; next?: tf.SymbolicTensor } {
  const apply = (name: string, input: tf.SymbolicTensor | tf.SymbolicTensor[]) => {
    const found = layer(name);
    if (!found) throw new BeeError(`the network has no layer ${name}`, { hint: 'the model files do not match its bee.json' });
    return found.apply(input) as tf.SymbolicTensor;
  };
  const a = apply(layerName.act13(b), apply(layerName.bn13(b), apply(layerName.conv13(b), x)));
  const c = apply(layerName.act31(b), apply(layerName.bn31(b), apply(layerName.conv31(b), x)));
  const y = apply(layerName.bn(b), apply(layerName.pool(b), apply(layerName.conv11(b), apply(layerName.concat(b), [a, c]))));
  let pooled = apply(layerName.exitPool(b), y);
  if (layer(layerName.exitHidden(b))) pooled = apply(layerName.exitHiddenAct(b), apply(layerName.exitHidden(b), pooled));
  const logits = apply(layerName.exit(b), pooled);
  return last ? { logits } : { logits, next: apply(layerName.act(b), y) };
}

/**
 * The paper's early-exit network. Each of the four blocks runs a (1x3) and a (3x1) convolution in
 * parallel (each -> BatchNorm -> activation), concatenates them, then a 1x1 convolution -> 2x2
 * max-pool -> BatchNorm -> activation. Exit head k reads block k's last BatchNorm output (before
 * the activation: max-pooling ±1 values is degenerate): GlobalMaxPool -> Dense(classes) (the
 * paper's), or ExitPooling -> Dense (max, mean and grid means), logits.
 *
 * Binary: every convolution's kernel is the STE sign of a latent kernel clipped to [-1, 1]
 * (optionally scaled per output channel), and every activation is the STE sign (optionally after
 * a learnable shift), so every convolution after the first block's pair sees ±1 inputs (the pair
 * sees the real-valued log-mel input, and may keep real weights: 192 of them at paper width).
 * Float: no quantizers, ReLU (the paper's notebook as written).
 */
export function buildNetwork(config: NetworkConfig): tf.LayersModel {
  const binary = config.precision === 'binary';
  let seed = config.seed * 1000;
  const conv = (filters: number, kernelSize: [number, number], name: string, real = false) =>
    new QuantConv2D({
      filters,
      kernelSize,
      padding: 'same',
      kernelQuantizer: binary && !real ? (config.scaledKernels ? 'magnitude_aware_sign' : 'ste_sign') : null,
      kernelClip: binary && !real ? 1 : null,
      useBias: false, // a BatchNorm follows every convolution
      seed: seed++,
      name,
    });
  const act = (name: string) => (binary ? new QuantActivation({ quantizer: 'ste_sign', shift: config.signShift, name }) : tf.layers.reLU({ name }));
  const head = config.exitHead;
  const exitPool = (name: string) => (head.type === 'pooled' ? new ExitPooling({ grid: head.grid, name }) : tf.layers.globalMaxPooling2d({ name }));
  const layers = new Map<string, tf.layers.Layer>();
  const add = (layer: tf.layers.Layer) => layers.set(layer.name, layer);
  const blocks = config.filters.length;
  config.filters.forEach((filters, i) => {
    const b = i + 1;
    add(conv(filters, [1, 3], layerName.conv13(b), b === 1 && config.realFirstBlock));
    add(conv(filters, [3, 1], layerName.conv31(b), b === 1 && config.realFirstBlock));
    add(conv(filters, [1, 1], layerName.conv11(b)));
    for (const name of [layerName.bn13(b), layerName.bn31(b), layerName.bn(b)]) add(new BatchNorm({ momentum: config.bnMomentum, name }));
    for (const name of [layerName.act13(b), layerName.act31(b), ...(b < blocks ? [layerName.act(b)] : [])]) add(act(name));
    add(tf.layers.concatenate({ name: layerName.concat(b) }));
    add(tf.layers.maxPooling2d({ poolSize: 2, name: layerName.pool(b) }));
    add(exitPool(layerName.exitPool(b)));
    if (head.type === 'pooled' && head.hidden) {
      add(new QuantDense({ units: head.hidden, useBias: true, seed: seed++, name: layerName.exitHidden(b) }));
      add(tf.layers.reLU({ name: layerName.exitHiddenAct(b) }));
    }
    add(new QuantDense({ units: config.classes, useBias: true, seed: seed++, name: layerName.exit(b) }));
  });
  const input = tf.input({ shape: config.inputShape, name: 'logmel' });
  let x: tf.SymbolicTensor = input;
  const exits: tf.SymbolicTensor[] = [];
  for (let b = 1; b <= blocks; b++) {
    const { logits, next } = wireBlock((name) => layers.get(name), b, x, b === blocks);
    exits.push(logits);
    if (next) x = next;
  }
  return tf.model({ inputs: input, outputs: exits, name: `bee_${config.precision}` });
}
