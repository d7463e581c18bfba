import type * as tf from '@tensorflow/tfjs';
import type { NetworkConfig, NetworkOptions } from '../../spec/network.js';

/** Applies the layer of that name to an input; throws where the network has no such layer. */
export type Apply = (name: string, input: tf.SymbolicTensor | tf.SymbolicTensor[]) => tf.SymbolicTensor;

/**
 * A family of binary early-exit networks: four stages, each halving the time x frequency
 * resolution, an exit head after each (network.ts adds the heads: they are every family's).
 */
export interface Architecture {
  /** one line for --help and bee summary */
  readonly description: string;
  /** output channels of the four stages at width 1 */
  readonly filters: number[];
  /** binary options the family is defined by, whatever else is asked (xnor's scaled kernels, say) */
  readonly fixed: Partial<NetworkOptions>;
  /** stage b's layers (1-based), named by layerName; `seed` numbers the initializers in order */
  stageLayers(config: NetworkConfig, b: number, seed: () => number): tf.layers.Layer[];
  /** Wires stage b on x: `features` is what its exit head reads, `next` (unless last) the next stage's input. */
  wireStage(apply: Apply, b: number, x: tf.SymbolicTensor, last: boolean): { features: tf.SymbolicTensor; next?: tf.SymbolicTensor };
  /** a lower bound on the network's kernel weights, to refuse an edited bee.json before building it */
  kernelWeights(config: NetworkConfig): number;
}
