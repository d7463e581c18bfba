import * as tf from '@tensorflow/tfjs';

/** Passes x forward and no gradient back (TensorFlow's stop_gradient, which tfjs lacks). */
export const stopGradient = tf.customGrad((x) => ({ value: tf.clone(x as tf.Tensor), gradFunc: (dy) => tf.zerosLike(dy as tf.Tensor) })) as (
  x: tf.Tensor,
) => tf.Tensor;

/**
 * Knowledge distillation's soft-label term (Hinton et al., 2015): the batch mean of
 * T^2 * KL(softmax(teacher / T) || softmax(student / T)) = T^2 * sum_j p_j (log p_j - log q_j).
 * The T^2 keeps its gradient's scale comparable with the cross-entropy's as T grows. No gradient
 * reaches the teacher.
 */
export function distillationLoss(teacherLogits: tf.Tensor, studentLogits: tf.Tensor, temperature: number): tf.Scalar {
  return tf.tidy(() => {
    const logP = tf.logSoftmax(tf.div(stopGradient(teacherLogits), temperature));
    const logQ = tf.logSoftmax(tf.div(studentLogits, temperature));
    const kl = tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1);
    return tf.mul(tf.mean(kl), temperature * temperature) as tf.Scalar;
  });
}
