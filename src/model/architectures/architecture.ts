import type * as tf from '@tensorflow/tfjs';
import type { Family } from '../../spec/families.js';
import type { NetworkConfig } from '../../spec/network-config.js';

/** Applies the layer of that name to an input; throws where the network has no such layer. */
export type Apply = (name: string, input: tf.SymbolicTensor | tf.SymbolicTensor[]) => tf.SymbolicTensor;

/**
 * A family's layers (its description, widths and options are data: spec/families.ts): stages that
 * each halve the time x frequency resolution, an exit head after each (network.ts adds the heads:
 * they are every family's). One builder per body (block.ts, residual.ts), configured by the family.
 */
export interface Architecture {
  readonly family: Family;
  /** stage b's layers (1-based), named by layerName; `seed` numbers the initializers in order */
  stageLayers(config: NetworkConfig, b: number, seed: () => number): tf.layers.Layer[];
  /** Wires stage b on x: `features` is what its exit head reads, `next` (unless last) the next stage's input. */
  wireStage(apply: Apply, b: number, x: tf.SymbolicTensor, last: boolean): { features: tf.SymbolicTensor; next?: tf.SymbolicTensor };
}
