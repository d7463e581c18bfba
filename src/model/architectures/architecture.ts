import type * as tf from '@tensorflow/tfjs';
import type { Family } from '../../spec/families.js';
import type { NetworkConfig } from '../../spec/network-config.js';

/**
 * Applies the layer of that name to an input; throws where the network has no such layer. Symbolic
 * tensors build a model; concrete ones run it (training's forward pass, src/train/training-forward.ts).
 */
export type Apply<T extends Wired = tf.SymbolicTensor> = (name: string, input: T | T[]) => T;
export type Wired = tf.SymbolicTensor | tf.Tensor;

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
  wireStage<T extends Wired>(apply: Apply<T>, b: number, x: T, last: boolean): { features: T; next?: T };
}
