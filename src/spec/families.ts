/** What the widths below read of a network config (src/spec/network.ts). */
type Widths = { filters: number[] };

// What the packed engine and the .bee format need to know of the families, apart from their
// TensorFlow layers (index.ts): so that the engine runs without TensorFlow.

export const ARCH_NAMES = ['bee', 'xnor', 'bireal', 'reactnet'] as const;

export type ArchName = (typeof ARCH_NAMES)[number];

/**
 * The families that keep real activations between binary convolutions: whether they have RPReLU,
 * and their downsampling shortcut (Bi-Real's real (1x1) convolution, or ReActNet's channels tiled).
 */
export interface ResidualFamily {
  rprelu: boolean;
  shortcut: 'conv' | 'tile';
}

export const RESIDUAL_FAMILIES: Partial<Record<ArchName, ResidualFamily>> = {
  bireal: { rprelu: false, shortcut: 'conv' },
  reactnet: { rprelu: true, shortcut: 'tile' },
};

/** Channels of a residual network's real (3x3) stem: half the first stage's output. */
export const stemFilters = (config: Widths) => Math.max(1, Math.round(config.filters[0] / 2));

/** The channels a residual stage b reads: the stem's, then the previous stage's output. */
export const bodyFilters = (config: Widths, b: number) => (b === 1 ? stemFilters(config) : config.filters[b - 2]);
