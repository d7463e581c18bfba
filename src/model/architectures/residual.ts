import * as tf from '@tensorflow/tfjs';
import { layerName } from '../layer-names.js';
import type { QuantizerName } from '../quantizers.js';
import { RPReLU } from '../rprelu.js';
import type { Architecture } from './architecture.js';
import { bodyFilters, stemFilters } from './families.js';
import { parts } from './parts.js';

/**
 * A stage whose real-valued activations flow past every binary convolution (Bi-Real Net's
 * shortcuts): with h the stage's real input of C channels,
 *
 *   h <- h + BN(conv1x3(sign(h)))           binary, C -> C
 *   h <- h + BN(conv3x1(sign(h)))           binary, C -> C
 *   h <- BN(maxpool(conv1x1(sign(h)))) + BN(conv1x1(avgpool(h)))    binary C -> f, and the real shortcut
 *
 * (each sum through RPReLU where `rprelu`). Stage 1 first lifts the one-channel log-mel to C
 * channels with a real (3x3) stem + BN. The exit head reads the stage's real output, which is also
 * the next stage's input: the signs are taken inside the stage. Where a 1-bit convolution loses
 * information, the identity keeps it: the paper's block, where every value is signed between
 * layers, has no such path.
 *
 * Widths: the stages put out 48, 96, 192, 384 channels, 1.5x the bee block's, so that their binary
 * MACs come within ~10% of it (8 C^2 per position against 20 C^2: the residual stage has three
 * convolutions of its input width, the bee block two of twice it and a (1x1) one).
 */
export function residualArchitecture(args: { description: string; sign: QuantizerName; rprelu: boolean; fixed: Architecture['fixed'] }): Architecture {
  const { sign, rprelu } = args;
  return {
    description: args.description,
    filters: [48, 96, 192, 384],
    fixed: { realFirstBlock: true, scaledKernels: true, ...args.fixed },
    stageLayers(config, b, seed) {
      const { conv, batchNorm, activation } = parts(config, seed);
      const c = bodyFilters(config, b);
      const f = config.filters[b - 1];
      const after = (add: string, rp: string) => [tf.layers.add({ name: add }), ...(rprelu ? [new RPReLU({ name: rp })] : [])];
      return [
        ...(b === 1 ? [conv(c, [3, 3], layerName.stem(b), true), batchNorm(layerName.stemBn(b))] : []),
        activation(layerName.act13(b), sign),
        conv(c, [1, 3], layerName.conv13(b)),
        batchNorm(layerName.bn13(b)),
        ...after(layerName.add13(b), layerName.rprelu13(b)),
        activation(layerName.act31(b), sign),
        conv(c, [3, 1], layerName.conv31(b)),
        batchNorm(layerName.bn31(b)),
        ...after(layerName.add31(b), layerName.rprelu31(b)),
        activation(layerName.act11(b), sign),
        conv(f, [1, 1], layerName.conv11(b)),
        tf.layers.maxPooling2d({ poolSize: 2, name: layerName.pool(b) }),
        batchNorm(layerName.bn(b)),
        tf.layers.averagePooling2d({ poolSize: 2, name: layerName.shortcutPool(b) }),
        conv(f, [1, 1], layerName.shortcutConv(b), true),
        batchNorm(layerName.shortcutBn(b)),
        ...after(layerName.add(b), layerName.rprelu(b)),
      ];
    },
    wireStage(apply, b, x) {
      const sum = (add: string, rp: string, inputs: tf.SymbolicTensor[]) => {
        const y = apply(add, inputs);
        return rprelu ? apply(rp, y) : y;
      };
      let h = b === 1 ? apply(layerName.stemBn(b), apply(layerName.stem(b), x)) : x;
      h = sum(layerName.add13(b), layerName.rprelu13(b), [h, apply(layerName.bn13(b), apply(layerName.conv13(b), apply(layerName.act13(b), h)))]);
      h = sum(layerName.add31(b), layerName.rprelu31(b), [h, apply(layerName.bn31(b), apply(layerName.conv31(b), apply(layerName.act31(b), h)))]);
      const body = apply(layerName.bn(b), apply(layerName.pool(b), apply(layerName.conv11(b), apply(layerName.act11(b), h))));
      const shortcut = apply(layerName.shortcutBn(b), apply(layerName.shortcutConv(b), apply(layerName.shortcutPool(b), h)));
      const out = sum(layerName.add(b), layerName.rprelu(b), [body, shortcut]);
      return { features: out, next: out };
    },
    kernelWeights: (config) =>
      config.filters.reduce((n, f, i) => {
        const c = bodyFilters(config, i + 1);
        return n + 6 * c * c + 2 * c * f;
      }, 9 * stemFilters(config)),
  };
}
