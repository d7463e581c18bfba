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
  // The residual architectures' (bireal, reactnet) own parts: the first block's real stem, a
  // shortcut add (and RPReLU) after each binary convolution, the real downsampling shortcut.
  stem: (block: number) => `block${block}_stem`,
  stemBn: (block: number) => `block${block}_stem_bn`,
  act11: (block: number) => `block${block}_act1x1`,
  add13: (block: number) => `block${block}_add1x3`,
  add31: (block: number) => `block${block}_add3x1`,
  rprelu13: (block: number) => `block${block}_rprelu1x3`,
  rprelu31: (block: number) => `block${block}_rprelu3x1`,
  shortcutPool: (block: number) => `block${block}_shortcut_pool`,
  shortcutConv: (block: number) => `block${block}_shortcut_conv`,
  shortcutBn: (block: number) => `block${block}_shortcut_bn`,
  shortcutTile: (block: number) => `block${block}_shortcut_tile`,
  add: (block: number) => `block${block}_add`,
  rprelu: (block: number) => `block${block}_rprelu`,
};
