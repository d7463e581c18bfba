import * as tf from '@tensorflow/tfjs';
import { BatchNorm } from '../batch-norm.js';
import { QuantActivation, QuantConv2D } from '../layers.js';
import type { QuantizerName } from '../quantizers.js';
import type { NetworkConfig } from '../../spec/network-config.js';

/** The layers every family builds from, configured by the network's precision and binary options. */
export function parts(config: NetworkConfig, seed: () => number) {
  const binary = config.precision === 'binary';
  return {
    /** A convolution (no bias: a BatchNorm follows), binary unless `real` or the network is float. */
    conv: (filters: number, kernelSize: [number, number], name: string, real = false) =>
      new QuantConv2D({
        filters,
        kernelSize,
        padding: 'same',
        kernelQuantizer: binary && !real ? (config.scaledKernels ? 'magnitude_aware_sign' : 'ste_sign') : null,
        kernelClip: binary && !real ? 1 : null,
        useBias: false,
        seed: seed(),
        name,
      }),
    batchNorm: (name: string) => new BatchNorm({ momentum: config.bnMomentum, name }),
    /** The sign before a binary convolution (with RSign's shift where asked); ReLU in a float twin. */
    activation: (name: string, sign: QuantizerName = 'ste_sign') =>
      binary ? new QuantActivation({ quantizer: sign, shift: config.signShift, name }) : tf.layers.reLU({ name }),
  };
}
