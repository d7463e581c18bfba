// Float32s in their order as integers: -0 just below +0, the largest negative denormal below both.
const bits = new Float32Array(1);
const bitsAsInt = new Int32Array(bits.buffer);

/** A float32's position in the order of float32s, as an integer (and back: keyFloat). */
export function floatKey(x: number): number {
  bits[0] = x;
  return bitsAsInt[0] >= 0 ? bitsAsInt[0] : bitsAsInt[0] ^ 0x7fffffff;
}

export function keyFloat(key: number): number {
  bitsAsInt[0] = key >= 0 ? key : key ^ 0x7fffffff;
  return bits[0];
}

/**
 * The largest float32 below float32 t (-0 and +0 alike), so that y >= t <=> y > floatBelow(t) for
 * every finite float32 y; -inf stays -inf (y >= -inf always holds, and so does y > -inf).
 */
export function floatBelow(t: number): number {
  if (t === -Infinity) return t;
  return keyFloat(t === 0 ? floatKey(-0) - 1 : floatKey(t) - 1);
}
