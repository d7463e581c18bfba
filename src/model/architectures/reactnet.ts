import { RESIDUAL_FAMILIES } from './families.js';
import { residualArchitecture } from './residual.js';

/**
 * ReActNet (Liu et al. 2020), on Bi-Real's shortcuts: a learnable threshold per channel before
 * every sign (RSign) and a learnable shifted PReLU after every shortcut sum (RPReLU), so that each
 * layer can move the distribution its signs read.
 */
export const reactnet = residualArchitecture({
  description: 'ReActNet: shortcuts, a learnable threshold before every sign (RSign) and RPReLU after every sum',
  sign: 'ste_sign',
  rprelu: RESIDUAL_FAMILIES.reactnet!.rprelu,
  fixed: { signShift: true },
});
