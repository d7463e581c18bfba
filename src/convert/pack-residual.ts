import type * as tf from '@tensorflow/tfjs';
import { bodyFilters, familyOf } from '../spec/families.js';
import { layerName } from '../spec/layer-names.js';
import type { NetworkConfig } from '../spec/network-config.js';
import type { PackedArray } from '../engine/format.js';
import { outputMajor, type PackedBody, packSigns, putAffine } from './folds.js';
import { batchNormAffine, effectiveKernel, kernelScale, signThreshold, weightsOf } from './read-layers.js';

/**
 * The residual body (bireal, reactnet), stage by stage: sign bits of every binary kernel, each
 * sign's threshold (RSign's shift), every binary kernel's scale, every BatchNorm as scale and
 * shift, RPReLU's weights, the stem's and the shortcuts' real kernels. Real activations stay
 * real: nothing folds into integer thresholds.
 */
export function packResidualBody(model: tf.LayersModel, network: NetworkConfig): PackedBody {
  const family = familyOf(network);
  const tensors = new Map<string, PackedArray>();
  const putRPReLU = (layer: string, name: string) => {
    if (!family.rprelu) return;
    const [gamma, slope, zeta] = weightsOf(model, layer);
    tensors.set(`${name}.rprelu.gamma`, gamma);
    tensors.set(`${name}.rprelu.slope`, slope);
    tensors.set(`${name}.rprelu.zeta`, zeta);
  };
  /** A binary convolution's kernel scale (1 where its kernel is plain ±1) and its BatchNorm, apart: TensorFlow rounds each. */
  const putBinaryAffine = (name: string, conv: string, bn: string, f: number) => {
    tensors.set(`${name}.alpha`, kernelScale(model, conv) ?? new Float32Array(f).fill(1));
    putAffine(tensors, name, batchNormAffine(model, bn));
  };
  network.filters.forEach((f, i) => {
    const b = i + 1;
    const c = bodyFilters(network, b);
    if (b === 1) {
      tensors.set('block1.stem.kernel', outputMajor(effectiveKernel(model, layerName.stem(1)), 9, c));
      putAffine(tensors, 'block1.stem', batchNormAffine(model, layerName.stemBn(1)));
    }
    tensors.set(`block${b}.conv1x1.threshold`, signThreshold(model, layerName.act11(b), c));
    tensors.set(`block${b}.conv1x1.signs`, packSigns(weightsOf(model, layerName.conv11(b))[0], c, f, 1));
    putBinaryAffine(`block${b}.conv1x1`, layerName.conv11(b), layerName.bn(b), f);
    if (family.shortcut === 'conv') {
      tensors.set(`block${b}.shortcut.kernel`, weightsOf(model, layerName.shortcutConv(b))[0]);
      putAffine(tensors, `block${b}.shortcut`, batchNormAffine(model, layerName.shortcutBn(b)));
    }
    putRPReLU(layerName.rprelu(b), `block${b}`);
    for (const [conv, bn, act, rp, key] of [
      [layerName.conv13(b), layerName.bn13(b), layerName.act13(b), layerName.rprelu13(b), 'conv1x3'],
      [layerName.conv31(b), layerName.bn31(b), layerName.act31(b), layerName.rprelu31(b), 'conv3x1'],
    ] as const) {
      tensors.set(`block${b}.${key}.threshold`, signThreshold(model, act, f));
      tensors.set(`block${b}.${key}.signs`, packSigns(weightsOf(model, conv)[0], f, f, 3));
      putBinaryAffine(`block${b}.${key}`, conv, bn, f);
      putRPReLU(rp, `block${b}.${key}`);
    }
  });
  return { tensors, constantChannels: 0 };
}
