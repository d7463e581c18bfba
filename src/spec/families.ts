// The families of binary early-exit networks, as data: what the network builder (model/
// architectures/), the packer (convert/), the .bee format's tensors and the engine's choice
// (engine/) and the cost model (spec/network-cost.ts) read of a family. TensorFlow-free, so that the
// runtime knows the families without the layers that build them. A new family is an entry here,
// plus a body of its own where neither body below fits.

export const ARCH_NAMES = ['bee', 'xnor', 'bireal', 'reactnet'] as const;

export type ArchName = (typeof ARCH_NAMES)[number];

/**
 * How a family's stages carry activations, which decides everything downstream of the layers:
 * `block`, the paper's block: every value is signed between layers, so the packer folds each
 * BatchNorm + sign into integer thresholds and the block engine runs on bits alone; `residual`
 * (Bi-Real Net's shortcuts): real activations flow past every binary convolution, signed again
 * before each, so BatchNorms stay scales and shifts and the residual engine keeps float32 beside
 * the bits.
 */
export type Body = 'block' | 'residual';

/** The binary options a family may fix, whatever `bee train` asks (spec/network-config.ts's NetworkOptions). */
export interface FixedOptions {
  realFirstBlock?: boolean;
  scaledKernels?: boolean;
  signShift?: boolean;
}

export interface Family {
  /** one line for --help and bee summary */
  readonly description: string;
  readonly body: Body;
  /** the stages' output channels at width 1 (four stages, four exits) */
  readonly filters: readonly number[];
  readonly fixed: FixedOptions;
  /** the quantizer of every sign before a binary convolution (src/model/quantizers.ts) */
  readonly sign: 'ste_sign' | 'approx_sign';
  /** residual: a learnable shifted PReLU after every shortcut sum */
  readonly rprelu: boolean;
  /** residual: where a stage widens, a real (1x1) convolution + BatchNorm of the pooled input, or its channels tiled (no weights) */
  readonly shortcut: 'conv' | 'tile' | null;
}

export const FAMILIES: Record<ArchName, Family> = {
  /**
   * The paper's block (its Larq notebook): a (1x3) and a (3x1) convolution in parallel (each ->
   * BatchNorm -> sign), concatenated, a (1x1) convolution -> 2x2 max-pool -> BatchNorm -> sign.
   */
  bee: {
    description: "the paper's block: parallel (1x3) and (3x1) binary convolutions, a (1x1) one, max-pool",
    body: 'block',
    filters: [32, 64, 128, 256],
    fixed: {},
    sign: 'ste_sign',
    rprelu: false,
    shortcut: null,
  },
  /**
   * XNOR-Net (Rastegari et al. 2016): every binary kernel is alpha_c * sign(W) with alpha_c the
   * mean |W| of its output channel, on the paper's block. XNOR-Net's activation scales (its K
   * matrix) are left out, as in later work: the BatchNorm after every convolution absorbs a
   * per-channel scale, and the engine folds alpha_c into its thresholds.
   */
  xnor: {
    description: "XNOR-Net: the paper's block with a real scale per output channel of every binary kernel",
    body: 'block',
    filters: [32, 64, 128, 256],
    fixed: { scaledKernels: true },
    sign: 'ste_sign',
    rprelu: false,
    shortcut: null,
  },
  /**
   * Bi-Real Net (Liu et al. 2018; larq_zoo's BiRealNet): a real identity shortcut around every
   * binary convolution, AvgPool + a real (1x1) convolution where the shape changes, approx_sign
   * activations (the piecewise-polynomial gradient) and magnitude-aware binary kernels.
   */
  bireal: {
    description: 'Bi-Real Net: a real shortcut around every binary convolution, approx_sign, scaled kernels',
    body: 'residual',
    filters: [32, 96, 192, 384],
    fixed: { realFirstBlock: true, scaledKernels: true },
    sign: 'approx_sign',
    rprelu: false,
    shortcut: 'conv',
  },
  /**
   * ReActNet (Liu et al. 2020): Bi-Real's identity shortcuts, a learnable threshold per channel
   * before every sign (RSign) and a learnable shifted PReLU after every shortcut sum (RPReLU), so
   * that each layer can move the distribution its signs read; where a stage widens, its shortcut is
   * the average-pooled input with its channels repeated (ReActNet's downsampling: no real weights).
   */
  reactnet: {
    description: 'ReActNet: shortcuts (channels repeated where a stage widens), RSign thresholds before every sign, RPReLU after every sum',
    body: 'residual',
    filters: [32, 96, 192, 384],
    fixed: { realFirstBlock: true, scaledKernels: true, signShift: true },
    sign: 'ste_sign',
    rprelu: true,
    shortcut: 'tile',
  },
};

/** A saved network's family: files written before families had names hold bee's block. */
export const familyOf = (network: { arch?: ArchName }): Family => FAMILIES[network.arch ?? 'bee'];

/** What the widths below read of a network config (src/spec/network-config.ts). */
type Widths = { filters: number[] };

/** Channels of a residual network's real (3x3) stem: half the first stage's output. */
export const stemFilters = (config: Widths) => Math.max(1, Math.round(config.filters[0] / 2));

/** The channels a residual stage b reads: the stem's, then the previous stage's output. */
export const bodyFilters = (config: Widths, b: number) => (b === 1 ? stemFilters(config) : config.filters[b - 2]);
