import * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import { ARCHITECTURES } from './architectures/index.js';
import type { Apply, Wired } from './architectures/architecture.js';
import { ARCH_NAMES, type ArchName, FAMILIES } from '../spec/families.js';
import { BatchNorm } from './batch-norm.js';
import { ExitPooling } from './exit-pooling.js';
import { layerName } from '../spec/layer-names.js';
import { QuantDense } from './layers.js';
import {
  LEGACY_NETWORK,
  MAX_STAGES,
  type NetworkChoice,
  type NetworkConfig,
  type NetworkOptions,
  type Precision,
  type ExitHead,
  stageCountProblem,
  stageWidthsFit,
} from '../spec/network-config.js';

export { layerName } from '../spec/layer-names.js';
export type { ArchName } from '../spec/families.js';
export type { ExitHead, NetworkChoice, NetworkConfig, NetworkOptions, Precision } from '../spec/network-config.js';

export const PAPER_FILTERS = [...FAMILIES.bee.filters];

/** The network bee builds unless told otherwise: the ablation in docs/recipe.md says what each part buys. */
export const DEFAULT_NETWORK: NetworkOptions = {
  arch: 'reactnet',
  exitHead: { type: 'pooled', grid: [4, 2] },
  bnMomentum: 0.9,
  realFirstBlock: true,
  scaledKernels: false,
  signShift: false,
};

/**
 * The pooled exit head: the grid asked for, else 4 x 2 cut down to what the last stage's positions
 * hold (a deep network's last stage has few); a hidden layer comes after a BatchNorm (ExitHead says why).
 */
export function pooledExitHead(inputShape: [number, number, number], stages: number, o: { grid?: [number, number]; hidden?: number } = {}): ExitHead {
  const grid = o.grid ?? [Math.min(4, Math.max(1, inputShape[0] >> stages)), Math.min(2, Math.max(1, inputShape[1] >> stages))];
  const hidden = o.hidden ?? 0;
  return hidden ? { type: 'pooled', grid, hidden, norm: true } : { type: 'pooled', grid, hidden };
}

export function networkConfig(
  args: { inputShape: [number, number, number]; classes: number; precision?: Precision; width?: number; seed?: number } & NetworkChoice,
): NetworkConfig {
  const width = args.width ?? 1;
  if (!(width > 0 && width <= 8)) throw new BeeError(`width multiplier must be in (0, 8], got ${width}`, { hint: 'try --width 0.25 for a quick model' });
  const precision = args.precision ?? 'binary';
  const binary = precision === 'binary';
  const arch = args.arch ?? DEFAULT_NETWORK.arch;
  if (!ARCH_NAMES.includes(arch)) throw new BeeError(`unknown architecture ${JSON.stringify(arch)}`, { hint: `one of ${ARCH_NAMES.join(', ')}` });
  const { fixed } = FAMILIES[arch];
  const stages = args.filters ?? [...FAMILIES[arch].filters];
  if (!stageWidthsFit(stages)) {
    throw new BeeError(`the stages' widths must be 1-${MAX_STAGES} whole numbers in 1..4096, got ${stages.join(',')}`, {
      hint: `e.g. --filters ${PAPER_FILTERS.join(',')}`,
    });
  }
  const tooMany = stageCountProblem(stages.length, args.inputShape[0], args.inputShape[1]);
  if (tooMany) throw new BeeError(tooMany, { hint: `e.g. --filters ${PAPER_FILTERS.join(',')}` });
  const config: NetworkConfig = {
    inputShape: args.inputShape,
    classes: args.classes,
    precision,
    filters: stages.map((f) => Math.max(1, Math.round(f * width))),
    seed: args.seed ?? 0,
    arch,
    exitHead: args.exitHead ?? pooledExitHead(args.inputShape, stages.length),
    bnMomentum: args.bnMomentum ?? DEFAULT_NETWORK.bnMomentum,
    // What a float network is, whatever was asked: real everywhere, nothing to scale or shift before a sign.
    realFirstBlock: binary ? (fixed.realFirstBlock ?? args.realFirstBlock ?? DEFAULT_NETWORK.realFirstBlock) : true,
    scaledKernels: binary && (fixed.scaledKernels ?? args.scaledKernels ?? DEFAULT_NETWORK.scaledKernels),
    signShift: binary && (fixed.signShift ?? args.signShift ?? DEFAULT_NETWORK.signShift),
  };
  checkNetwork(config);
  return config;
}

/** Throws a BeeError where a config's options do not fit together (bee train's flags, or a saved bee.json). */
export function checkNetwork(config: NetworkConfig): void {
  if (!ARCH_NAMES.includes(config.arch)) throw new BeeError(`unknown architecture ${JSON.stringify(config.arch)}`, { hint: `one of ${ARCH_NAMES.join(', ')}` });
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
    if (![undefined, true, false].includes(config.exitHead.norm))
      throw new BeeError(`the exit head's norm must be true or false, got ${JSON.stringify(config.exitHead.norm)}`);
    if (config.exitHead.norm && !hidden)
      throw new BeeError("the exit head's BatchNorm comes before its hidden layer, and it has none", { hint: 'e.g. --exit-hidden 64' });
  }
}

/** A saved config with the fields it lacks filled in as the version that wrote it meant them. */
export function completeNetworkConfig(saved: Partial<NetworkConfig> & Omit<NetworkConfig, keyof NetworkOptions>): NetworkConfig {
  return { ...LEGACY_NETWORK, ...saved };
}

/** The layer of that name, or undefined where the network has none (an exit head without a hidden layer). */
type LayerLookup = (name: string) => tf.layers.Layer | undefined;

/** Wires a stage in place of its architecture's layers (a fused training path does): `apply` runs the network's other layers. */
export type StageWiring<T extends Wired> = (apply: Apply<T>, x: T) => { features: T; next?: T };

/**
 * Applies block b and its exit head to x with the layers `layer` finds by name: the one place a
 * network's wiring lives, for building it (symbolic x), for cutting a loaded one into stages, and
 * for training's forward pass (concrete x, `training`, and optionally a `stage` that replaces the
 * stage's layers). Returns the exit's logits and, unless it is the last block, the next block's input.
 */
export function wireBlock<T extends Wired>(
  arch: ArchName,
  layer: LayerLookup,
  b: number,
  x: T,
  last: boolean,
  run: { training?: boolean; stage?: StageWiring<T> } = {},
): { logits: T; next?: T } {
  const apply: Apply<T> = (name, input) => {
    const found = layer(name);
    if (!found) throw new BeeError(`the network has no layer ${name}`, { hint: 'the model files do not match its bee.json' });
    return found.apply(input as Parameters<tf.layers.Layer['apply']>[0], run.training ? { training: true } : undefined) as T;
  };
  const { features, next } = run.stage ? run.stage(apply, x) : ARCHITECTURES[arch].wireStage(apply, b, x, last);
  let pooled = apply(layerName.exitPool(b), features);
  if (layer(layerName.exitHiddenBn(b))) pooled = apply(layerName.exitHiddenBn(b), pooled);
  if (layer(layerName.exitHidden(b))) pooled = apply(layerName.exitHiddenAct(b), apply(layerName.exitHidden(b), pooled));
  const logits = apply(layerName.exit(b), pooled);
  return last ? { logits } : { logits, next };
}

/**
 * An early-exit network of the config's architecture: its four stages, and after each an exit
 * head on the stage's real-valued output: GlobalMaxPool -> Dense(classes) (the paper's), or
 * ExitPooling -> Dense (max, mean and grid means; optionally a hidden ReLU layer), logits.
 *
 * Binary: every binary kernel is the STE sign of a latent kernel clipped to [-1, 1] (optionally
 * scaled per output channel), every activation before a binary convolution a sign (optionally
 * after a learnable shift). Float, the twin: no quantizers, ReLU where the binary network signs.
 */
export function buildNetwork(config: NetworkConfig): tf.LayersModel {
  const architecture = ARCHITECTURES[config.arch];
  let seed = config.seed * 1000;
  const nextSeed = () => seed++;
  const head = config.exitHead;
  const layers = new Map<string, tf.layers.Layer>();
  const add = (layer: tf.layers.Layer) => layers.set(layer.name, layer);
  const blocks = config.filters.length;
  for (let b = 1; b <= blocks; b++) {
    for (const layer of architecture.stageLayers(config, b, nextSeed)) add(layer);
    add(
      head.type === 'pooled'
        ? new ExitPooling({ grid: head.grid, name: layerName.exitPool(b) })
        : tf.layers.globalMaxPooling2d({ name: layerName.exitPool(b) }),
    );
    if (head.type === 'pooled' && head.hidden) {
      if (head.norm) add(new BatchNorm({ momentum: config.bnMomentum, name: layerName.exitHiddenBn(b) }));
      add(new QuantDense({ units: head.hidden, useBias: true, seed: nextSeed(), name: layerName.exitHidden(b) }));
      add(tf.layers.reLU({ name: layerName.exitHiddenAct(b) }));
    }
    add(new QuantDense({ units: config.classes, useBias: true, seed: nextSeed(), name: layerName.exit(b) }));
  }
  const input = tf.input({ shape: config.inputShape, name: 'logmel' });
  let x: tf.SymbolicTensor = input;
  const exits: tf.SymbolicTensor[] = [];
  for (let b = 1; b <= blocks; b++) {
    const { logits, next } = wireBlock(config.arch, (name) => layers.get(name), b, x, b === blocks);
    exits.push(logits);
    if (next) x = next;
  }
  const name = config.arch === 'bee' ? `bee_${config.precision}` : `bee_${config.arch}_${config.precision}`;
  return tf.model({ inputs: input, outputs: exits, name });
}
