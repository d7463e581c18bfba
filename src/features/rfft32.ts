/**
 * The plan of a real FFT that rounds like TensorFlow's. TensorFlow computes `tf.signal.stft` in
 * float32 with DUCC's FFTPACK-style real transform (radix-4 passes, radix 2 first for odd powers
 * of two); its rounding errors reach 2e-3 in the log of the quietest mel bands. spectrum.as.ts
 * replays the same passes with every operation in float32, which reproduces TensorFlow's values,
 * errors included; this is what it runs: the passes and their twiddles. Power-of-two lengths only.
 */
export interface FftPass {
  radix: 2 | 4;
  l1: number;
  ido: number;
  /** (radix - 1) x (ido - 1) twiddles */
  tw: Float32Array;
}

/** The passes of a real FFT of `size` points, in the order they run. */
export function fftPasses(size: number): FftPass[] {
  if (!(size >= 2 && (size & (size - 1)) === 0)) throw new RangeError(`FFT length must be a power of two, got ${size}`);
  const factors: (2 | 4)[] = [];
  let len = size;
  while (len % 4 === 0) {
    factors.push(4);
    len /= 4;
  }
  if (len === 2) factors.unshift(2);
  // Twiddles as DUCC makes them: computed in double precision, stored as float32.
  const passes: FftPass[] = [];
  let l1 = 1;
  for (const radix of factors) {
    const ido = size / (l1 * radix);
    const tw = new Float32Array((radix - 1) * Math.max(ido - 1, 0));
    for (let j = 1; j < radix; j++) {
      for (let i = 1; i <= (ido - 1) >> 1; i++) {
        const angle = (2 * Math.PI * j * l1 * i) / size;
        tw[(j - 1) * (ido - 1) + 2 * i - 2] = Math.cos(angle);
        tw[(j - 1) * (ido - 1) + 2 * i - 1] = Math.sin(angle);
      }
    }
    passes.push({ radix, l1, ido, tw });
    l1 *= radix;
  }
  // FFTPACK's forward transform runs the last factor's pass first.
  return passes.reverse();
}
