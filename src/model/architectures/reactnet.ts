import { RESIDUAL_FAMILIES } from '../../spec/families.js';
import { residualArchitecture } from './residual.js';

/**
 * ReActNet (Liu et al. 2020): Bi-Real's identity shortcuts, a learnable threshold per channel
 * before every sign (RSign) and a learnable shifted PReLU after every shortcut sum (RPReLU), so
 * that each layer can move the distribution its signs read; where a stage widens, its shortcut is
 * the average-pooled input with its channels repeated (ReActNet's downsampling: no real weights).
 */
export const reactnet = residualArchitecture({
  description: 'ReActNet: shortcuts (channels repeated where a stage widens), RSign thresholds before every sign, RPReLU after every sum',
  sign: 'ste_sign',
  family: RESIDUAL_FAMILIES.reactnet!,
  fixed: { signShift: true },
});
