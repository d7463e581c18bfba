import type * as tf from '@tensorflow/tfjs';
import { BeeError } from '../errors.js';
import { type Body, familyOf } from '../spec/families.js';
import { layerName } from '../spec/layer-names.js';
import type { ModelMeta } from '../spec/model-meta.js';
import type { NetworkConfig } from '../spec/network-config.js';
import { BEE_VERSION } from '../version.js';
import { hiddenUnits, type PackedArray, type PackedHeader, type PackedModel } from '../engine/format.js';
import { foldInputAffine, type PackedBody } from './folds.js';
import { packBlockBody } from './pack-block.js';
import { packResidualBody } from './pack-residual.js';
import { batchNormAffine, weightsOf } from './read-layers.js';

/** What packing found. */
export interface PackReport {
  /** channels whose BatchNorm + sign is the same for every input the layer can see */
  constantChannels: number;
}

const BODY_PACKERS: Record<Body, (model: tf.LayersModel, network: NetworkConfig) => PackedBody> = { block: packBlockBody, residual: packResidualBody };

/**
 * Packs a trained binary network into the .bee format's tensors (engine/format.ts): its body by
 * its family's packer, then every exit head's dense layers in float32 (a hidden layer's BatchNorm
 * folded into it).
 */
export function packModel(model: tf.LayersModel, meta: ModelMeta, dir?: string): { packed: PackedModel; report: PackReport } {
  const { network } = meta;
  if (network.precision !== 'binary')
    throw new BeeError(`a ${network.precision} network has nothing binary to pack`, { file: dir, hint: 'train with --precision binary' });
  const { tensors, constantChannels } = BODY_PACKERS[familyOf(network).body](model, network);
  for (let b = 1; b <= network.filters.length; b++) putExit(tensors, model, network, b);
  return { packed: { header: packedHeader(meta), tensors }, report: { constantChannels } };
}

function putExit(tensors: Map<string, PackedArray>, model: tf.LayersModel, network: NetworkConfig, b: number): void {
  if (hiddenUnits(network.exitHead)) {
    let [hiddenKernel, hiddenBias] = weightsOf(model, layerName.exitHidden(b));
    if (network.exitHead.type === 'pooled' && network.exitHead.norm)
      [hiddenKernel, hiddenBias] = foldInputAffine(hiddenKernel, hiddenBias, batchNormAffine(model, layerName.exitHiddenBn(b)));
    tensors.set(`exit${b}.hidden.kernel`, hiddenKernel);
    tensors.set(`exit${b}.hidden.bias`, hiddenBias);
  }
  const [kernel, bias] = weightsOf(model, layerName.exit(b));
  tensors.set(`exit${b}.kernel`, kernel);
  tensors.set(`exit${b}.bias`, bias);
}

/** The header a model's packed file carries: what bee.json says of it that running it needs. */
export function packedHeader(meta: ModelMeta): PackedHeader {
  const { network } = meta;
  return {
    labels: meta.labels,
    features: meta.features,
    network: {
      arch: network.arch,
      inputShape: network.inputShape,
      classes: network.classes,
      filters: network.filters,
      exitHead: network.exitHead,
      realFirstBlock: network.realFirstBlock,
      scaledKernels: network.scaledKernels,
      signShift: network.signShift,
    },
    temperatures: meta.calibration?.temperatures ?? network.filters.map(() => 1),
    ...(meta.data ? { data: meta.data } : {}),
    ...(meta.stream ? { stream: meta.stream } : {}),
    beeVersion: BEE_VERSION,
  };
}
