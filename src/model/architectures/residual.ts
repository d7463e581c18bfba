import * as tf from '@tensorflow/tfjs';
import { layerName } from '../../spec/layer-names.js';
import type { QuantizerName } from '../quantizers.js';
import { RPReLU } from '../rprelu.js';
import type { Apply, Architecture, Wired } from './architecture.js';
import { ChannelTile } from '../channel-tile.js';
import { bodyFilters, type Family } from '../../spec/families.js';
import { parts } from './parts.js';

/**
 * A stage whose real-valued activations flow past every binary convolution (Bi-Real Net's
 * shortcuts). With x the stage's real input of C channels:
 *
 *   h <- BN(maxpool(conv1x1(sign(x)))) + S(avgpool(x))    binary C -> f, and the real shortcut
 *   h <- h + BN(conv1x3(sign(h)))                          binary f -> f
 *   h <- h + BN(conv3x1(sign(h)))                          binary f -> f
 *
 * (each sum through RPReLU where the family has it); the shortcut S is a real (1x1) convolution +
 * BN (Bi-Real Net's) or the channels repeated to f (ReActNet's: no weights, no float MACs). As in
 * a ResNet stage, the stage widens and halves the resolution first, then works at its own width.
 * Stage 1's input is a real (3x3) stem + BN of the log-mel. The exit head reads h, which is also
 * the next stage's input: the signs are taken inside the stage. Where a 1-bit convolution loses
 * information, the identity keeps it: the paper's block, where every value is signed between
 * layers, has no such path.
 *
 * Widths: the stages put out 32, 96, 192, 384 channels (the stem 16). Per stage the binary MACs
 * are 6 f^2 at the pooled positions and C f at the input's, against the bee block's 20 C^2 at its
 * input's: stage 1 at the bee block's width costs what the bee block's does (12.8 M), and the later
 * stages at 1.5x its widths come to 88% of its binary MACs in all. Stage 1's width stays a word (32
 * channels): at 98 x 64 positions the packed engine pays for every word of every position.
 */
export function residualArchitecture(family: Family): Architecture {
  const { rprelu, shortcut } = family;
  const sign: QuantizerName = family.sign;
  return {
    family,
    stageLayers(config, b, seed) {
      const { conv, batchNorm, activation } = parts(config, seed);
      const c = bodyFilters(config, b);
      const f = config.filters[b - 1];
      const after = (add: string, rp: string) => [tf.layers.add({ name: add }), ...(rprelu ? [new RPReLU({ name: rp })] : [])];
      return [
        ...(b === 1 ? [conv(c, [3, 3], layerName.stem(b), true), batchNorm(layerName.stemBn(b))] : []),
        activation(layerName.act11(b), sign),
        conv(f, [1, 1], layerName.conv11(b)),
        tf.layers.maxPooling2d({ poolSize: 2, name: layerName.pool(b) }),
        batchNorm(layerName.bn(b)),
        tf.layers.averagePooling2d({ poolSize: 2, name: layerName.shortcutPool(b) }),
        ...(shortcut === 'conv'
          ? [conv(f, [1, 1], layerName.shortcutConv(b), true), batchNorm(layerName.shortcutBn(b))]
          : [new ChannelTile({ channels: f, name: layerName.shortcutTile(b) })]),
        ...after(layerName.add(b), layerName.rprelu(b)),
        activation(layerName.act13(b), sign),
        conv(f, [1, 3], layerName.conv13(b)),
        batchNorm(layerName.bn13(b)),
        ...after(layerName.add13(b), layerName.rprelu13(b)),
        activation(layerName.act31(b), sign),
        conv(f, [3, 1], layerName.conv31(b)),
        batchNorm(layerName.bn31(b)),
        ...after(layerName.add31(b), layerName.rprelu31(b)),
      ];
    },
    wireStage(apply, b, x) {
      const sum = (add: string, rp: string, inputs: (typeof x)[]) => {
        const y = apply(add, inputs);
        return rprelu ? apply(rp, y) : y;
      };
      const input = residualStageInput(apply, b, x);
      const body = apply(layerName.bn(b), apply(layerName.pool(b), apply(layerName.conv11(b), apply(layerName.act11(b), input))));
      const pooled = apply(layerName.shortcutPool(b), input);
      const real = shortcut === 'conv' ? apply(layerName.shortcutBn(b), apply(layerName.shortcutConv(b), pooled)) : apply(layerName.shortcutTile(b), pooled);
      let h = sum(layerName.add(b), layerName.rprelu(b), [body, real]);
      h = sum(layerName.add13(b), layerName.rprelu13(b), [h, apply(layerName.bn13(b), apply(layerName.conv13(b), apply(layerName.act13(b), h)))]);
      h = sum(layerName.add31(b), layerName.rprelu31(b), [h, apply(layerName.bn31(b), apply(layerName.conv31(b), apply(layerName.act31(b), h)))]);
      return { features: h, next: h };
    },
  };
}

/** What a residual stage's binary path starts from: the network's input through the real stem (stage 1), else the previous stage's output. */
export function residualStageInput<T extends Wired>(apply: Apply<T>, b: number, x: T): T {
  return b === 1 ? apply(layerName.stemBn(b), apply(layerName.stem(b), x)) : x;
}
