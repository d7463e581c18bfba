/** Root mean square of a signal (0 for an empty one). */
export function rms(x: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < x.length; i++) sum += x[i] * x[i];
  return Math.sqrt(sum / Math.max(1, x.length));
}

/**
 * The gain that puts `noise` snrDb below `signal`, by RMS over the span given:
 * 20 log10(rms(signal) / (gain rms(noise))) = snrDb. 0 where either is silent.
 */
export function gainForSnr(signal: Float32Array, noise: Float32Array, snrDb: number): number {
  const [s, n] = [rms(signal), rms(noise)];
  return s > 0 && n > 0 ? s / (n * 10 ** (snrDb / 20)) : 0;
}
