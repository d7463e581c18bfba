import * as tf from '@tensorflow/tfjs';
import { fusedOps } from '../backend/fused-ops.js';
import { type NativeOps, nativeOps } from '../backend/native-ops.js';
import { residualStageInput } from '../model/architectures/residual.js';
import { BatchNorm, type FusedBatchNormOps, fusedBatchNormOps } from '../model/batch-norm.js';
import { ChannelTile } from '../model/channel-tile.js';
import { QuantActivation, QuantConv2D } from '../model/layers.js';
import type { StageWiring } from '../model/network.js';
import { RPReLU } from '../model/rprelu.js';
import { layerName } from '../spec/layer-names.js';

/** The scope a fused stage's ops run in, forward and backward: the step profile finds them by it. */
export const FUSED_STAGE_SCOPE = 'fused residual stage';

/** One residual unit: sign -> binary convolution (-> 2x2 max pooling in the first) -> BatchNorm, added to the path, then RPReLU. */
interface Unit {
  sign: QuantActivation;
  conv: QuantConv2D;
  bn: BatchNorm;
  rprelu: RPReLU;
}

type LayerLookup = (name: string) => tf.layers.Layer | undefined;

const isTwoByTwo = (layer: tf.layers.Layer | undefined, className: string) => {
  if (layer?.getClassName() !== className) return false;
  const { poolSize, strides, padding } = layer.getConfig() as { poolSize: number[]; strides: number[]; padding: string };
  return padding === 'valid' && [...poolSize, ...strides].every((n) => n === 2);
};

/**
 * Stage b's layers where they form ReActNet's stage (src/model/architectures/residual.ts: three
 * units, RPReLU after every sum, the average-pooled input's channels repeated as the widening
 * shortcut), each sign an STE sign and each convolution binary, bias-free and 'same'; else undefined.
 */
function matchStage(layer: LayerLookup, b: number): { units: Unit[]; clips: number[]; inChannels: number; filters: number } | undefined {
  const names = [
    [layerName.act11(b), layerName.conv11(b), layerName.bn(b), layerName.rprelu(b), layerName.add(b)],
    [layerName.act13(b), layerName.conv13(b), layerName.bn13(b), layerName.rprelu13(b), layerName.add13(b)],
    [layerName.act31(b), layerName.conv31(b), layerName.bn31(b), layerName.rprelu31(b), layerName.add31(b)],
  ];
  const units: Unit[] = [];
  const clips: number[] = [];
  for (const [sign, conv, bn, rprelu, add] of names.map((unit) => unit.map(layer))) {
    if (!(sign instanceof QuantActivation && conv instanceof QuantConv2D && bn instanceof BatchNorm && rprelu instanceof RPReLU)) return undefined;
    if (add?.getClassName() !== 'Add' || sign.quantizer.name !== 'ste_sign') return undefined;
    if (!conv.binaryKernel || conv.binaryInput || conv.padding !== 'same' || conv.getConfig().useBias) return undefined;
    units.push({ sign, conv, bn, rprelu });
    clips.push(sign.quantizer.clipValue);
  }
  const tile = layer(layerName.shortcutTile(b));
  const inChannels = units[0].conv.weights[0].shape[2]!;
  const filters = units[0].conv.filters;
  if (!isTwoByTwo(layer(layerName.pool(b)), 'MaxPooling2D') || !isTwoByTwo(layer(layerName.shortcutPool(b)), 'AveragePooling2D')) return undefined;
  if (!(tile instanceof ChannelTile && tile.channels === filters && filters % inChannels === 0)) return undefined;
  return { units, clips, inChannels, filters };
}

/** What each unit keeps for the backward pass, in this order: its sign, kernel, convolution's output, the BatchNorm's saved five, p, RPReLU's gamma and slope, h, the next sign's shift. */
const SAVED_PER_UNIT = 13;

/**
 * Stage b of a ReActNet network as one custom-gradient function of its input and its layers'
 * variables, where bee's fused kernels run; undefined for any other stage. tfjs-layers runs a stage
 * as 18 layers, each its own passes over memory forward and backward; this runs it as 12 full-size
 * native ops forward and 15 backward, the gradients derived by hand:
 *
 *   s0 = sign(x - shift_1)                          h_0 = avgpool2(x), channels repeated
 *   unit u = 1, 2, 3:  c_u = conv(s_{u-1}, K_u)  (max-pooled 2x2 in unit 1)
 *                      p_u = BN_u(c_u) + h_{u-1};  h_u = RPReLU_u(p_u);  s_u = sign(h_u - shift_{u+1})
 *
 * BeeResidual computes p, h and s in one pass; BeeResidualGrad takes the gradient reaching h_u from
 * p_{u+1} and from s_u (through the STE) to p_u's in one pass. The values are the layers' (the
 * same kernels, the same float32 operations: test/fused-stage.test.ts), the moving statistics
 * move as the layers move them, and the kernels are quantized on the tape as the layers do.
 */
export function fusedResidualStage(layer: LayerLookup, b: number): StageWiring<tf.Tensor> | undefined {
  const ops = nativeOps();
  const match = fusedOps() && ops ? matchStage(layer, b) : undefined;
  if (!ops || !match) return undefined;
  const { units, clips, inChannels, filters } = match;
  const norms = units.map((u) => fusedBatchNormOps(u.bn.epsilon)!);
  const stage = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const save = args.pop() as tf.GradSaveFunc;
    const [x, ...variables] = args as tf.Tensor[];
    const perUnit = units.map((_, u) => variables.slice(7 * u, 7 * u + 7));
    const { h, saved } = tf.tidy(FUSED_STAGE_SCOPE, () => forward(ops, units, norms, filters, x as tf.Tensor4D, perUnit));
    save(saved);
    return {
      value: h,
      gradFunc: (dy: tf.Tensor | tf.Tensor[], kept: tf.Tensor[]) => tf.tidy(FUSED_STAGE_SCOPE, () => backward(ops, norms, clips, dy as tf.Tensor, kept)),
    };
  });
  return (apply, x) => {
    const input = residualStageInput(apply, b, x);
    const variables = units.flatMap(({ sign, conv, bn, rprelu }, u) => {
      const { gamma, slope, zeta } = rprelu.parameters;
      const shift = sign.shiftVariable ?? tf.zeros([u === 0 ? inChannels : filters]);
      return [shift, conv.trainingKernel(), bn.affine.gamma, bn.affine.beta, gamma, slope, zeta];
    });
    const h = stage(input, ...variables);
    return { features: h, next: h };
  };
}

function forward(
  ops: NativeOps,
  units: Unit[],
  norms: FusedBatchNormOps[],
  filters: number,
  x: tf.Tensor4D,
  perUnit: tf.Tensor[][],
): { h: tf.Tensor; saved: tf.Tensor[] } {
  const saved: tf.Tensor[] = [x, perUnit[0][0]];
  let signed = ops.run('BeeSteSign', [], [x, perUnit[0][0]], 1)[0];
  let h: tf.Tensor = ops.run('BeeAvgPool2Tile', [ops.int('channels', filters)], [x], 1)[0];
  units.forEach((unit, u) => {
    const [, kernel, gamma, beta, rpGamma, slope, zeta] = perUnit[u];
    const last = u === units.length - 1;
    const nextShift = last ? tf.tensor1d([]) : perUnit[u + 1][0];
    const c = tf.conv2d(signed as tf.Tensor4D, kernel as tf.Tensor4D, 1, 'same');
    const bn = norms[u].forward(u === 0 ? tf.maxPool(c, 2, 2, 'valid') : c, gamma as tf.Tensor1D, beta as tf.Tensor1D);
    unit.bn.updateMovingStatistics(bn.mean, bn.variance);
    const [p, out, nextSigned] = ops.run('BeeResidual', [ops.bool('sign', !last)], [bn.y, h, rpGamma, slope, zeta, nextShift], 3);
    saved.push(signed, kernel, c, ...bn.saved, p, rpGamma, slope, out, nextShift);
    [signed, h] = [nextSigned, out];
  });
  return { h, saved };
}

/** The gradients of the stage's inputs, in forward's order: x, then each unit's shift, kernel, BatchNorm gamma and beta, RPReLU gamma, slope and zeta. */
function backward(ops: NativeOps, norms: FusedBatchNormOps[], clips: number[], dy: tf.Tensor, kept: tf.Tensor[]): tf.Tensor[] {
  const [x, firstShift] = kept;
  const count = norms.length;
  const shiftGrads: tf.Tensor[] = [];
  const grads: tf.Tensor[][] = [];
  let dh = dy;
  let ds: tf.Tensor = tf.tensor1d([]);
  for (let u = count - 1; u >= 0; u--) {
    const at = 2 + u * SAVED_PER_UNIT;
    const [signed, kernel, c, ...rest] = kept.slice(at, at + SAVED_PER_UNIT);
    const [p, rpGamma, slope, h, nextShift] = rest.slice(5);
    const last = u === count - 1;
    const [dp, dGamma, dSlope, dZeta, dNextShift] = ops.run(
      'BeeResidualGrad',
      [ops.bool('sign', !last), ops.float('clip', last ? 0 : clips[u + 1])],
      [dh, ds, last ? ds : h, nextShift, p, rpGamma, slope],
      5,
    );
    if (!last) shiftGrads[u + 1] = dNextShift;
    const [dNormed, dBnGamma, dBnBeta] = norms[u].backward(dp, rest.slice(0, 5));
    const dc = u === 0 ? ops.run('BeeMaxPool2Grad', [], [c, dNormed], 1)[0] : dNormed;
    const conv = { strides: [1, 1], pad: 'same', dataFormat: 'NHWC' };
    ds = tf.engine().runKernel('Conv2DBackpropInput', { dy: dc, filter: kernel }, { ...conv, inputShape: signed.shape }) as tf.Tensor;
    const dKernel = tf.engine().runKernel('Conv2DBackpropFilter', { x: signed, dy: dc }, { ...conv, filterShape: kernel.shape }) as tf.Tensor;
    grads[u] = [dKernel, dBnGamma, dBnBeta, dGamma, dSlope, dZeta];
    dh = dp;
  }
  const [dSigned, dFirstShift] = ops.run('BeeSteSignGrad', [ops.float('clip', clips[0])], [ds, x, firstShift], 2);
  shiftGrads[0] = dFirstShift;
  return [ops.run('BeeAvgPool2TileGrad', [], [dh, dSigned], 1)[0], ...grads.flatMap((g, u) => [shiftGrads[u], ...g])];
}
