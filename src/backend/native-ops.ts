import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-node's backend that run a TensorFlow op by name. */
interface NodeBackend {
  binding: Record<string, number>;
  executeMultipleOutputs(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
}

export interface OpAttr {
  name: string;
  type: number;
  value: unknown;
}

export interface NativeOps {
  run(name: string, attrs: OpAttr[], inputs: tf.Tensor[], numOutputs: number): tf.Tensor[];
  float32(name: string): OpAttr;
  float(name: string, value: number): OpAttr;
  int(name: string, value: number): OpAttr;
  bool(name: string, value: boolean): OpAttr;
  string(name: string, value: string): OpAttr;
}

/**
 * TensorFlow ops that tfjs does not expose (fused kernels with their native gradients), when the
 * native backend is active; undefined on wasm and cpu, where callers use composite ops.
 */
export function nativeOps(): NativeOps | undefined {
  if (tf.getBackend() !== 'tensorflow') return undefined;
  const backend = tf.backend() as unknown as NodeBackend;
  const b = backend.binding;
  return {
    run: (name, attrs, inputs, numOutputs) => backend.executeMultipleOutputs(name, attrs, inputs, numOutputs),
    float32: (name) => ({ name, type: b.TF_ATTR_TYPE, value: b.TF_FLOAT }),
    float: (name, value) => ({ name, type: b.TF_ATTR_FLOAT, value }),
    int: (name, value) => ({ name, type: b.TF_ATTR_INT, value }),
    bool: (name, value) => ({ name, type: b.TF_ATTR_BOOL, value }),
    string: (name, value) => ({ name, type: b.TF_ATTR_STRING, value }),
  };
}
