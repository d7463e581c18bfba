import type * as tf from '@tensorflow/tfjs';
import { type ArchName, wireBlock } from '../model/network.js';
import { fusedResidualStage } from './fused-stage.js';

/**
 * The network's forward pass in training mode, as the training step runs it: every stage that
 * fusedResidualStage recognizes (ReActNet's, where bee's fused kernels run) as one fused function,
 * the rest through the network's layers, wired by wireBlock as the model was built. Where no stage
 * fuses, the model's own apply.
 */
export function trainingForward(model: tf.LayersModel, arch: ArchName): (x: tf.Tensor) => tf.Tensor[] {
  const byName = new Map(model.layers.map((l) => [l.name, l]));
  const layer = (name: string) => byName.get(name);
  const blocks = model.outputs.length;
  const stages = Array.from({ length: blocks }, (_, i) => fusedResidualStage(layer, i + 1));
  if (stages.every((s) => !s)) return (x) => model.apply(x, { training: true }) as tf.Tensor[];
  return (x) => {
    const exits: tf.Tensor[] = [];
    let h = x;
    for (let b = 1; b <= blocks; b++) {
      const { logits, next } = wireBlock(arch, layer, b, h, b === blocks, { training: true, stage: stages[b - 1] });
      exits.push(logits);
      if (next) h = next;
    }
    return exits;
  };
}
