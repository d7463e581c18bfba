import type * as tf from '@tensorflow/tfjs';
import { layerName } from '../spec/layer-names.js';
import type { NetworkConfig } from '../spec/network-config.js';
import type { PackedArray } from '../engine/format.js';
import { foldFloatSign, foldIntegerSign, outputMajor, packSigns, type PackedBody, putAffine, type SignFold } from './folds.js';
import { batchNormAffine, effectiveKernel, kernelScale, signInput, weightsOf } from './read-layers.js';

/**
 * The block body (bee, xnor), stage by stage: sign bits of every binary kernel (the first stage's
 * pair, which reads the real log-mel, as float32 kernels), each kernel scale + BatchNorm + shift +
 * sign folded into thresholds and flips; the stage's last BatchNorm (times the kernel scale) kept
 * as a scale and a shift too, for the exit head that reads its real output.
 */
export function packBlockBody(model: tf.LayersModel, network: NetworkConfig): PackedBody {
  const tensors = new Map<string, PackedArray>();
  let constantChannels = 0;
  const putSign = (name: string, fold: SignFold) => {
    tensors.set(`${name}.thresholds`, fold.thresholds);
    tensors.set(`${name}.flips`, fold.flips);
    constantChannels += fold.constant;
  };
  const blocks = network.filters.length;
  network.filters.forEach((f, i) => {
    const b = i + 1;
    const inChannels = b === 1 ? 1 : network.filters[i - 1];
    for (const [conv, bn, act, key] of [
      [layerName.conv13(b), layerName.bn13(b), layerName.act13(b), 'conv1x3'],
      [layerName.conv31(b), layerName.bn31(b), layerName.act31(b), 'conv3x1'],
    ] as const) {
      if (b === 1) {
        // scales and real weights are in these floats already
        tensors.set(`block1.${key}.kernel`, outputMajor(effectiveKernel(model, conv), 3, f));
        putSign(`block1.${key}`, foldFloatSign(signInput(model, bn, act, null), f));
      } else {
        tensors.set(`block${b}.${key}.signs`, packSigns(weightsOf(model, conv)[0], inChannels, f, 3));
        putSign(`block${b}.${key}`, foldIntegerSign(bn, signInput(model, bn, act, kernelScale(model, conv)), f, 3 * inChannels));
      }
    }
    tensors.set(`block${b}.conv1x1.signs`, packSigns(weightsOf(model, layerName.conv11(b))[0], 2 * f, f, 1, f));
    const alpha = kernelScale(model, layerName.conv11(b));
    putSign(`block${b}.bn`, foldIntegerSign(layerName.bn(b), signInput(model, layerName.bn(b), b < blocks ? layerName.act(b) : null, alpha), f, 2 * f));
    putAffine(tensors, `block${b}.bn`, batchNormAffine(model, layerName.bn(b), alpha));
  });
  return { tensors, constantChannels };
}
