import type * as tf from '@tensorflow/tfjs';
import { ExitPooling } from './exit-pooling.js';
import { QuantActivation, QuantConv2D, QuantDense } from './layers.js';
import { layerName } from './network.js';
import type { ExitCost } from '../spec/network-cost.js';

/** One layer's size and work, in the manner of larq.models.summary. */
export interface LayerCost {
  name: string;
  type: string;
  outputShape: (number | null)[];
  /** 1-bit parameters (binary kernels) and 32-bit ones (everything else, BatchNorm statistics included) */
  binaryParams: number;
  floatParams: number;
  memoryBits: number;
  /** multiply-accumulates per example: binary when both the input and the kernel are ±1 (XNOR-popcount), float otherwise */
  binaryMacs: number;
  floatMacs: number;
  /** 1-4 for the block (or exit head) the layer belongs to, 0 for the input */
  block: number;
  exitHead: boolean;
}

export interface ModelCost {
  layers: LayerCost[];
  /** each exit's MACs (spec/network-cost.ts counts the same from a config alone) and the memory of its path */
  exits: (ExitCost & { memoryBits: number })[];
  totals: { binaryParams: number; floatParams: number; memoryBits: number; float32Bits: number; compression: number; binaryMacs: number; floatMacs: number };
}

const size = (shape: (number | null)[]) => shape.reduce((a: number, b) => a * (b ?? 1), 1);

const inboundLayers = (layer: tf.layers.Layer): tf.layers.Layer[] => (layer.inboundNodes[0]?.inboundLayers ?? []) as tf.layers.Layer[];

/** Whether a layer's output is ±1: a sign activation, or a concatenation of them. */
function binaryOutput(layer: tf.layers.Layer): boolean {
  if (layer instanceof QuantActivation) return true;
  if (layer.getClassName() === 'Concatenate') return inboundLayers(layer).every(binaryOutput);
  return false;
}

const blockOf = (name: string): { block: number; exitHead: boolean } => {
  const exit = /^exit(\d+)/.exec(name);
  if (exit) return { block: Number.parseInt(exit[1], 10), exitHead: true };
  const block = /^block(\d+)_/.exec(name);
  return { block: block ? Number.parseInt(block[1], 10) : 0, exitHead: false };
};

/** Parameters, memory and multiply-accumulates of every layer, of every exit's path, and in total. */
export function modelCost(model: tf.LayersModel): ModelCost {
  const layers: LayerCost[] = model.layers.map((layer) => {
    const outputShape = layer.outputShape as (number | null)[];
    const params = layer.weights.reduce((n, w) => n + size(w.shape), 0);
    let binaryParams = 0;
    let binaryMacs = 0;
    let floatMacs = 0;
    if (layer instanceof QuantConv2D || layer instanceof QuantDense) {
      const kernel = size(layer.weights[0].shape);
      if (layer.binaryKernel) binaryParams = kernel;
      const positions = layer instanceof QuantConv2D ? (outputShape[1] as number) * (outputShape[2] as number) : 1;
      const macs = positions * kernel;
      const binaryInput = layer.binaryInput || inboundLayers(layer).every(binaryOutput);
      if (layer.binaryKernel && binaryInput) binaryMacs = macs;
      else floatMacs = macs;
    } else if (layer instanceof ExitPooling) {
      // Each value is added into its grid cell once (the means and the max follow at a cost per channel).
      floatMacs = size(inboundLayers(layer)[0].outputShape as (number | null)[]);
    }
    const floatParams = params - binaryParams;
    return {
      name: layer.name,
      type: layer.getClassName(),
      outputShape,
      binaryParams,
      floatParams,
      memoryBits: binaryParams + 32 * floatParams,
      binaryMacs,
      floatMacs,
      ...blockOf(layer.name),
    };
  });
  const sum = (rows: LayerCost[], key: 'binaryParams' | 'floatParams' | 'memoryBits' | 'binaryMacs' | 'floatMacs') => rows.reduce((n, r) => n + r[key], 0);
  const totalMacs = sum(layers, 'binaryMacs') + sum(layers, 'floatMacs');
  const exitCount = model.outputs.length;
  const exits = Array.from({ length: exitCount }, (_, i) => {
    const k = i + 1;
    // Reaching exit k runs blocks 1..k and the heads of exits 1..k (each decided whether to stop).
    const path = layers.filter((l) => l.block <= k && l.name !== layerName.act(k));
    const binaryMacs = sum(path, 'binaryMacs');
    const floatMacs = sum(path, 'floatMacs');
    return { exit: k, binaryMacs, floatMacs, memoryBits: sum(path, 'memoryBits'), relativeMacs: (binaryMacs + floatMacs) / totalMacs };
  });
  const binaryParams = sum(layers, 'binaryParams');
  const floatParams = sum(layers, 'floatParams');
  const memoryBits = sum(layers, 'memoryBits');
  const float32Bits = 32 * (binaryParams + floatParams);
  return {
    layers,
    exits,
    totals: {
      binaryParams,
      floatParams,
      memoryBits,
      float32Bits,
      compression: float32Bits / memoryBits,
      binaryMacs: sum(layers, 'binaryMacs'),
      floatMacs: sum(layers, 'floatMacs'),
    },
  };
}
