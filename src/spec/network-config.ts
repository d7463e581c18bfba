import type { ArchName } from './families.js';

// A network's description as saved with a model and read by the packed engine: TensorFlow-free,
// so that the runtime can read a .bee file's header without the layers that build the network.

export type Precision = 'binary' | 'float';

/**
 * paper: GlobalMaxPool -> Dense; pooled: max, mean and a time x frequency grid of means
 * (ExitPooling) -> Dense, or with `hidden` > 0 -> [BatchNorm] -> Dense(hidden) -> ReLU -> Dense.
 * The BatchNorm (`norm`; models saved before it have none) puts the pooled statistics on one
 * scale: a residual stage's real outputs grow with depth, and on reactnet's stage 4 all but 2 of
 * 64 hidden units died without it. At inference it folds into the hidden layer's weights.
 */
export type ExitHead = { type: 'paper' } | { type: 'pooled'; grid: [number, number]; hidden?: number; norm?: boolean };

/** Everything needed to rebuild the network; saved with a model. */
export interface NetworkConfig {
  /** [frames, mel bins, 1] */
  inputShape: [number, number, number];
  classes: number;
  precision: Precision;
  /** Output channels of the four blocks: the architecture's (the paper's 32, 64, 128, 256 for bee) or the ones asked for, times the width multiplier. */
  filters: number[];
  /** Seed of the initial weights. */
  seed: number;
  /** The fields below came after bee 0.1's first models; a saved config without them means the value in LEGACY_NETWORK. */
  /** The family of the blocks (src/model/architectures/). */
  arch: ArchName;
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

export type NetworkOptions = Pick<NetworkConfig, 'arch' | 'exitHead' | 'bnMomentum' | 'realFirstBlock' | 'scaledKernels' | 'signShift'>;

/** What a run asks of its network beyond precision and width: any of the options, and the stages' widths before the multiplier (default: the architecture's). */
export type NetworkChoice = Partial<NetworkOptions> & { filters?: number[] };

/** What a saved config without a field meant: the network as bee 0.1 first built it (the paper's). */
export const LEGACY_NETWORK: NetworkOptions = {
  arch: 'bee',
  exitHead: { type: 'paper' },
  bnMomentum: 0.99,
  realFirstBlock: false,
  scaledKernels: false,
  signShift: false,
};

/** Stages a network may have: each halves time and frequency, and 98 x 64 log-mel frames fit six. */
export const MAX_STAGES = 6;

/** Whether `filters` can be the stages' widths: 1..MAX_STAGES whole numbers in 1..4096. */
export const stageWidthsFit = (filters: number[]) =>
  filters.length >= 1 && filters.length <= MAX_STAGES && filters.every((f) => Number.isInteger(f) && f >= 1 && f <= 4096);

/** Why `stages` stages do not fit an input of `frames` x `melBins` (each halves both), or undefined. */
export function stageCountProblem(stages: number, frames: number, melBins: number): string | undefined {
  let fit = 0;
  while (fit < MAX_STAGES && frames >> (fit + 1) >= 1 && melBins >> (fit + 1) >= 1) fit++;
  if (stages > fit) return `${stages} stages halve the ${frames} x ${melBins} input to nothing: at most ${fit} fit`;
  return undefined;
}
