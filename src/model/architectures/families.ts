import type { NetworkConfig } from '../network.js';

// What the packed engine and the .bee format need to know of the families, apart from their
// TensorFlow layers (index.ts): so that the engine runs without TensorFlow.

export const ARCH_NAMES = ['bee', 'xnor', 'bireal', 'reactnet'] as const;

export type ArchName = (typeof ARCH_NAMES)[number];

/** The families that keep real activations between binary convolutions, and whether they have RPReLU. */
export const RESIDUAL_FAMILIES: Partial<Record<ArchName, { rprelu: boolean }>> = { bireal: { rprelu: false }, reactnet: { rprelu: true } };

/** Channels of a residual network's real (3x3) stem: a third of the first stage's output. */
export const stemFilters = (config: Pick<NetworkConfig, 'filters'>) => Math.max(1, Math.round(config.filters[0] / 3));

/** The channels a residual stage b's body runs at: the stem's, then the previous stage's output. */
export const bodyFilters = (config: Pick<NetworkConfig, 'filters'>, b: number) => (b === 1 ? stemFilters(config) : config.filters[b - 2]);
