// biome-ignore-all lint/correctness/noPrecisionLoss: the literals are exact decimal expansions of float32 constants (Eigen's)
/**
 * cos(x) for float32 x as Eigen's vectorized `psincos_float` computes it without FMA (TensorFlow's
 * CPU build): Cody-Waite reduction by pi/2 in four float32 steps, then a minimax polynomial.
 * It differs from the correctly rounded cosine by up to an ulp, and TensorFlow's window with it.
 * Valid for |x| < 18838 (Eigen's own threshold for this path).
 */
const f = Math.fround;
const bits = new Int32Array(1);
const asFloat = new Float32Array(bits.buffer);

export function eigenCosF32(input: number): number {
  const ax = f(Math.abs(input));
  if (ax >= 18838) throw new RangeError(`eigenCosF32 is exact only below 18838, got ${input}`);
  // Round x * 2/pi to an integer (quadrant) with the 2^23 + 2^22 magic number; its low bits are the integer.
  const rounded = f(f(ax * f(0.636619746685028076171875)) + 12582912);
  asFloat[0] = rounded;
  const quadrant = bits[0];
  const q = f(rounded - 12582912);
  let x = f(f(q * -1.5703125) + ax);
  x = f(f(q * -0.000483989715576171875) + x);
  x = f(f(q * f(1.62865035235881805419921875e-7)) + x);
  x = f(f(q * f(5.5644315544167710640977020375430583953857421875e-11)) + x);
  const x2 = f(x * x);
  let c = f(2.4372266125283204019069671630859375e-5);
  c = f(f(c * x2) + f(-0.00138865201734006404876708984375));
  c = f(f(c * x2) + f(0.041666619479656219482421875));
  c = f(f(c * x2) - 0.5);
  c = f(f(c * x2) + 1);
  let s = f(-0.0001959234114083702898469196984621021329076029360294342041015625);
  s = f(f(s * x2) + f(0.00833268736556168516937947998712843400426208972930908203125));
  s = f(f(s * x2) + f(-0.166666620398229825550373561782180331647396087646484375));
  s = f(s * x2);
  s = f(f(s * x) + x);
  const value = (quadrant & 1) === 0 ? c : s;
  return ((quadrant + 1) & 2) !== 0 ? -value : value;
}
