import assert from 'node:assert/strict';
import type * as tf from '@tensorflow/tfjs';

/** a and b hold the same values bit for bit (-0 and +0 alike): a fused kernel against the composite ops. */
export function same(a: tf.Tensor, b: tf.Tensor, what: string): void {
  assert.deepEqual(a.shape, b.shape, what);
  const [p, q] = [a.dataSync(), b.dataSync()];
  const differ = p.findIndex((v, i) => !Object.is(v === 0 ? 0 : v, q[i] === 0 ? 0 : q[i]));
  assert.equal(differ, -1, `${what}: element ${differ} is ${p[differ]} fused, ${q[differ]} composite`);
}

/** Every value of a within `relative` * (1 + |b|) of b's. */
export function close(a: tf.Tensor, b: tf.Tensor, relative: number, what: string): void {
  const [p, q] = [a.dataSync(), b.dataSync()];
  for (let i = 0; i < p.length; i++) assert.ok(Math.abs(p[i] - q[i]) <= relative * (1 + Math.abs(q[i])), `${what}[${i}]: ${p[i]} vs ${q[i]}`);
}
