import { RESIDUAL_FAMILIES } from '../../spec/families.js';
import { residualArchitecture } from './residual.js';

/**
 * Bi-Real Net (Liu et al. 2018; larq_zoo's BiRealNet): a real identity shortcut around every
 * binary convolution, AvgPool + a real (1x1) convolution where the shape changes, approx_sign
 * activations (the piecewise-polynomial gradient) and magnitude-aware binary kernels.
 */
export const bireal = residualArchitecture({
  description: 'Bi-Real Net: a real shortcut around every binary convolution, approx_sign, scaled kernels',
  sign: 'approx_sign',
  family: RESIDUAL_FAMILIES.bireal!,
  fixed: {},
});
