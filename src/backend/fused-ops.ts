import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { nativeOps, type NativeOps } from './native-ops.js';

/**
 * bee's fused training kernels (src/native/bee_ops.cc), on the native backend when
 * scripts/install-native.mjs built them: each a single pass over memory where composite tfjs ops
 * took four to twelve, with the same float32 values (the per-channel gradient sums are added in
 * another order, so they differ in the last bits). BEE_FUSED_OPS=0 turns them off, to compare.
 */
export interface FusedOps {
  /** ste_sign(x - shift) with the straight-through gradient dy * (|x - shift| <= clip), per channel of the last axis (no shift: 0) */
  steSign(x: tf.Tensor, shift: tf.Tensor1D | undefined, clip: number): tf.Tensor;
  /** RPReLU: (x - gamma > 0 ? x - gamma : slope * (x - gamma)) + zeta, per channel of the last axis */
  rprelu(x: tf.Tensor, gamma: tf.Tensor1D, slope: tf.Tensor1D, zeta: tf.Tensor1D): tf.Tensor;
  /** alpha_c * sign(w) with alpha_c = mean |w| over all axes but the last, held constant; gradient dy * alpha_c * (|w| <= clip) */
  scaledSign(w: tf.Tensor, clip: number): tf.Tensor;
  /** One Adam step of a variable: [value, m, v] after it; `scalars` as src/train/adam.ts lays them out. */
  adam(value: tf.Tensor, m: tf.Tensor, v: tf.Tensor, grad: tf.Tensor, scalars: tf.Tensor1D): tf.Tensor[];
}

/** BEE_OPS_VERSION of the library this code calls: a stale build (`npm run native` rebuilds) is not used. */
export const FUSED_OPS_VERSION = 5;

const require = createRequire(import.meta.url);
let loaded: { ops: NativeOps; fused: FusedOps } | null | undefined;

/** The built library beside tfjs-node's libtensorflow, loaded once: loading registers its ops. */
function loadLibrary(): boolean {
  try {
    const dir = path.dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
    return require(path.join(dir, 'deps', 'lib', 'bee-ops.node')).opsVersion === FUSED_OPS_VERSION;
  } catch {
    return false;
  }
}

function make(ops: NativeOps): FusedOps {
  const steSign = (clip: number) =>
    tf.customGrad((xIn, shiftIn, save) => {
      const [x, shift] = [xIn, shiftIn] as tf.Tensor[];
      (save as tf.GradSaveFunc)([x, shift]);
      return {
        value: ops.run('BeeSteSign', [], [x, shift], 1)[0],
        gradFunc: (dy, [sx, sshift]) => ops.run('BeeSteSignGrad', [ops.float('clip', clip)], [dy as tf.Tensor, sx, sshift], 2),
      };
    });
  const rprelu = tf.customGrad((xIn, gIn, sIn, zIn, save) => {
    const [x, gamma, slope, zeta] = [xIn, gIn, sIn, zIn] as tf.Tensor[];
    (save as tf.GradSaveFunc)([x, gamma, slope]);
    return {
      value: ops.run('BeeRPReLU', [], [x, gamma, slope, zeta], 1)[0],
      gradFunc: (dy, [sx, sg, ss]) => ops.run('BeeRPReLUGrad', [], [dy as tf.Tensor, sx, sg, ss], 4),
    };
  });
  const scaledSign = (clip: number) =>
    tf.customGrad((wIn, save) => {
      const w = wIn as tf.Tensor;
      const [y, alpha] = ops.run('BeeScaledSign', [], [w], 2);
      (save as tf.GradSaveFunc)([w, alpha]);
      return { value: y, gradFunc: (dy, [sw, sa]) => ops.run('BeeScaledSignGrad', [ops.float('clip', clip)], [dy as tf.Tensor, sw, sa], 1)[0] };
    });
  const signs = new Map<number, ReturnType<typeof steSign>>();
  const scaled = new Map<number, ReturnType<typeof scaledSign>>();
  return {
    steSign: (x, shift, clip) => {
      if (!signs.has(clip)) signs.set(clip, steSign(clip));
      return signs.get(clip)!(x, shift ?? tf.zeros([x.shape[x.rank - 1]]));
    },
    rprelu: (x, gamma, slope, zeta) => rprelu(x, gamma, slope, zeta),
    scaledSign: (w, clip) => {
      if (!scaled.has(clip)) scaled.set(clip, scaledSign(clip));
      return scaled.get(clip)!(w);
    },
    adam: (value, m, v, grad, scalars) => ops.run('BeeAdam', [], [value, m, v, grad, scalars], 3),
  };
}

/**
 * Gradients from bee's kernels where TensorFlow's or tfjs's cost more than the op itself, with the
 * same values: MaxPool's for 2x2 windows of stride 2 without padding (every max pooling in bee's
 * networks; dy to the first maximum of each window), where TensorFlow's generic MaxPoolGrad took
 * more time than the convolution before it; and Max's over the positions of NHWC maps (the exit
 * heads' global max; dy to every maximum), where tfjs runs three passes. Other poolings and
 * reductions keep tfjs's gradients.
 */
function installGradients(ops: NativeOps): void {
  const maxPool = tf.getGradient(tf.MaxPool);
  const pair = (v: unknown) => (Array.isArray(v) ? v : [v, v]);
  tf.registerGradient({
    ...maxPool,
    gradFunc: (dy, saved, attrs) => {
      const { filterSize, strides, pad } = attrs as unknown as tf.MaxPoolAttrs;
      const [x] = saved;
      if (x.rank === 4 && pad === 'valid' && [...pair(filterSize), ...pair(strides)].every((n) => n === 2)) {
        return { x: () => ops.run('BeeMaxPool2Grad', [], [x, dy as tf.Tensor], 1)[0] };
      }
      return maxPool.gradFunc(dy, saved, attrs);
    },
  });
  const max = tf.getGradient(tf.Max);
  tf.registerGradient({
    ...max,
    gradFunc: (dy, saved, attrs) => {
      const [x, y] = saved;
      const axes = (attrs as unknown as tf.MaxAttrs).reductionIndices;
      if (x.rank === 4 && Array.isArray(axes) && axes.length === 2 && axes[0] === 1 && axes[1] === 2) {
        return { x: () => ops.run('BeeSpatialMaxGrad', [], [x, y, dy as tf.Tensor], 1)[0] };
      }
      return max.gradFunc(dy, saved, attrs);
    },
  });
}

/** bee's fused kernels where the native backend is active and they are built; undefined elsewhere (callers compose tfjs ops). */
export function fusedOps(): FusedOps | undefined {
  if (process.env.BEE_FUSED_OPS === '0') return undefined;
  const ops = nativeOps();
  if (!ops) return undefined;
  if (loaded === undefined) {
    loaded = loadLibrary() ? { ops, fused: make(ops) } : null;
    if (loaded) installGradients(ops);
  }
  return loaded?.fused;
}
