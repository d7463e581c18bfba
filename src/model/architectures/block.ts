import * as tf from '@tensorflow/tfjs';
import type { Family } from '../../spec/families.js';
import { layerName } from '../../spec/layer-names.js';
import type { Architecture } from './architecture.js';
import { parts } from './parts.js';

/**
 * The paper's block (its Larq notebook; bee and xnor): a (1x3) and a (3x1) convolution in parallel
 * (each -> BatchNorm -> sign), concatenated, a (1x1) convolution -> 2x2 max-pool -> BatchNorm -> sign.
 * The exit reads the last BatchNorm's output (max-pooling ±1 values would be degenerate). Every
 * convolution after the first block's pair sees ±1 inputs; that pair sees the real log-mel and
 * may keep real weights (192 at paper width).
 */
export const blockArchitecture = (family: Family): Architecture => ({
  family,
  stageLayers(config, b, seed) {
    const { conv, batchNorm, activation } = parts(config, seed);
    const real = b === 1 && config.realFirstBlock;
    const f = config.filters[b - 1];
    return [
      conv(f, [1, 3], layerName.conv13(b), real),
      conv(f, [3, 1], layerName.conv31(b), real),
      conv(f, [1, 1], layerName.conv11(b)),
      ...[layerName.bn13(b), layerName.bn31(b), layerName.bn(b)].map(batchNorm),
      ...[layerName.act13(b), layerName.act31(b), ...(b < config.filters.length ? [layerName.act(b)] : [])].map((name) => activation(name)),
      tf.layers.concatenate({ name: layerName.concat(b) }),
      tf.layers.maxPooling2d({ poolSize: 2, name: layerName.pool(b) }),
    ];
  },
  wireStage(apply, b, x, last) {
    const a = apply(layerName.act13(b), apply(layerName.bn13(b), apply(layerName.conv13(b), x)));
    const c = apply(layerName.act31(b), apply(layerName.bn31(b), apply(layerName.conv31(b), x)));
    const y = apply(layerName.bn(b), apply(layerName.pool(b), apply(layerName.conv11(b), apply(layerName.concat(b), [a, c]))));
    return last ? { features: y } : { features: y, next: apply(layerName.act(b), y) };
  },
});
