import type { Architecture } from './architecture.js';
import { bee } from './bee.js';

/**
 * XNOR-Net (Rastegari et al. 2016): every binary kernel is alpha_c * sign(W) with alpha_c the
 * mean |W| of its output channel (magnitude_aware_sign), on the paper's block. XNOR-Net's
 * activation scales (its K matrix) are left out, as in later work: the BatchNorm that follows
 * every convolution absorbs a per-channel scale, and the engine folds alpha_c into its thresholds.
 */
export const xnor: Architecture = {
  ...bee,
  description: "XNOR-Net: the paper's block with a real scale per output channel of every binary kernel",
  fixed: { scaledKernels: true },
};
