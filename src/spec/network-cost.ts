import { bodyFilters, familyOf, stemFilters, type ArchName } from './families.js';
import { pooledFeatures } from './exit-grid.js';
import type { NetworkConfig } from './network-config.js';

// The work of a network, counted from its config alone (no layers built): what the packed engine,
// the stream listener and the web page charge an exit with. model/costs.ts counts the same from a
// built TensorFlow model, layer by layer, for bee summary; test/network-cost.test.ts holds the two
// equal for every family.

/** What the count reads of a network: a saved config, or a .bee header's network (always binary). */
export type CountedNetwork = Pick<NetworkConfig, 'inputShape' | 'classes' | 'filters' | 'exitHead' | 'realFirstBlock'> & {
  arch?: ArchName;
  precision?: NetworkConfig['precision'];
};

/** One layer that multiplies: a convolution, a dense layer, or the exit pooling's sums. */
export interface Work {
  /** the stage (1-based) it belongs to, or the exit whose head it is in */
  stage: number;
  exitHead: boolean;
  /** multiply-accumulates per example */
  macs: number;
  /** ±1 inputs and ±1 kernel: XNOR-popcount */
  binary: boolean;
  /** its kernel's weights (0 for pooling) */
  kernel: number;
}

export interface ExitCost {
  exit: number;
  binaryMacs: number;
  floatMacs: number;
  /** share of the full network's MACs: every block and every exit head, as run when no exit fires early */
  relativeMacs: number;
}

/**
 * Every layer's work, stage by stage. A convolution's MACs are out_h x out_w x k_h x k_w x in x
 * out ('same' padding); every max- and average-pooling halves time and frequency (rounding down).
 * A convolution is binary when its kernel is ±1 and so is its input (a sign's output): the first
 * stage's convolutions read the real log-mel.
 */
export function networkWork(network: CountedNetwork): Work[] {
  const family = familyOf(network);
  const binaryNet = (network.precision ?? 'binary') === 'binary';
  const { filters, exitHead, classes } = network;
  const work: Work[] = [];
  const conv = (stage: number, positions: number, taps: number, cin: number, cout: number, binary: boolean) =>
    work.push({ stage, exitHead: false, macs: positions * taps * cin * cout, binary: binaryNet && binary, kernel: taps * cin * cout });
  const dense = (stage: number, inputs: number, units: number) =>
    work.push({ stage, exitHead: true, macs: inputs * units, binary: false, kernel: inputs * units });
  let [height, width, channels] = network.inputShape;
  filters.forEach((f, i) => {
    const b = i + 1;
    const at = height * width;
    const [pooledHeight, pooledWidth] = [height >> 1, width >> 1];
    const pooled = pooledHeight * pooledWidth;
    if (family.body === 'block') {
      for (let pair = 0; pair < 2; pair++) conv(b, at, 3, channels, f, b > 1);
      conv(b, at, 1, 2 * f, f, true);
    } else {
      const c = bodyFilters(network, b);
      if (b === 1) conv(b, at, 9, channels, stemFilters(network), false);
      conv(b, at, 1, c, f, true);
      if (family.shortcut === 'conv') conv(b, pooled, 1, c, f, false);
      for (let pair = 0; pair < 2; pair++) conv(b, pooled, 3, f, f, true);
    }
    // The exit head on the stage's pooled output: each value added into its grid cell once, then dense layers.
    const perChannel = exitHead.type === 'pooled' ? pooledFeatures(exitHead.grid) : 1;
    if (exitHead.type === 'pooled') work.push({ stage: b, exitHead: true, macs: pooled * f, binary: false, kernel: 0 });
    const hidden = exitHead.type === 'pooled' ? (exitHead.hidden ?? 0) : 0;
    if (hidden) dense(b, perChannel * f, hidden);
    dense(b, hidden || perChannel * f, classes);
    [height, width, channels] = [pooledHeight, pooledWidth, f];
  });
  return work;
}

/** What reaching each exit costs: blocks 1..k and the heads of exits 1..k (each decided whether to stop). */
export function exitCosts(network: CountedNetwork): ExitCost[] {
  const work = networkWork(network);
  const total = work.reduce((n, w) => n + w.macs, 0);
  return network.filters.map((_, i) => {
    const path = work.filter((w) => w.stage <= i + 1);
    const binaryMacs = path.reduce((n, w) => n + (w.binary ? w.macs : 0), 0);
    const floatMacs = path.reduce((n, w) => n + (w.binary ? 0 : w.macs), 0);
    return { exit: i + 1, binaryMacs, floatMacs, relativeMacs: (binaryMacs + floatMacs) / total };
  });
}

/** The weights of the body's convolutions: a lower bound on a network's weights, to refuse an edited bee.json before building it. */
export const bodyKernelWeights = (network: CountedNetwork) => networkWork(network).reduce((n, w) => n + (w.exitHead ? 0 : w.kernel), 0);
