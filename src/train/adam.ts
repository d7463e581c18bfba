import * as tf from '@tensorflow/tfjs';
import { fusedOps } from '../backend/fused-ops.js';

/** AdamOptimizer's state, which its typings keep private. */
interface AdamState {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
  accumulatedSecondMoment: ({ originalName: string; variable: tf.Variable } | undefined)[];
}

/**
 * tfjs's Adam with each variable's step one fused kernel on the native backend (src/native/
 * bee_ops.cc: the same float32 arithmetic as the eleven ops tfjs runs per variable, so the same
 * weights), tfjs's own steps elsewhere. Its state is AdamOptimizer's, under the same names, so
 * checkpoints load either way.
 */
export class Adam extends tf.AdamOptimizer {
  override applyGradients(variableGradients: Parameters<tf.AdamOptimizer['applyGradients']>[0]): void {
    const fused = fusedOps();
    if (!fused) {
      super.applyGradients(variableGradients);
      return;
    }
    const state = this as unknown as AdamState;
    const named = Array.isArray(variableGradients)
      ? variableGradients.map((v) => [v.name, v.tensor] as const)
      : Object.entries(variableGradients).map(([name, tensor]) => [name, tensor] as const);
    tf.tidy(() => {
      // [beta1, 1 - beta1, beta2, 1 - beta2, 1 - beta1^t, 1 - beta2^t, epsilon, -lr], as tfjs rounds each
      const scalars = tf.concat([
        tf.tensor1d([this.beta1, 1 - this.beta1, this.beta2, 1 - this.beta2]),
        tf.sub(1, tf.stack([state.accBeta1, state.accBeta2])),
        tf.tensor1d([this.epsilon, -this.learningRate]),
      ]) as tf.Tensor1D;
      named.forEach(([name, gradient], i) => {
        const value = tf.engine().registeredVariables[name];
        const moment = (kind: 'm' | 'v') => ({ originalName: `${name}/${kind}`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) });
        state.accumulatedFirstMoment[i] ??= moment('m');
        state.accumulatedSecondMoment[i] ??= moment('v');
        if (gradient == null) return;
        const m = state.accumulatedFirstMoment[i]!.variable;
        const v = state.accumulatedSecondMoment[i]!.variable;
        const [newValue, newM, newV] = fused.adam(value, m, v, gradient as tf.Tensor, scalars);
        m.assign(newM);
        v.assign(newV);
        value.assign(newValue);
      });
      state.accBeta1.assign(tf.mul(state.accBeta1, this.beta1));
      state.accBeta2.assign(tf.mul(state.accBeta2, this.beta2));
    });
    this.incrementIterations();
  }
}

/** The optimizer of every bee run: Adam with Keras's epsilon. */
export const adamFor = (learningRate: number) => new Adam(learningRate, 0.9, 0.999, 1e-7);
