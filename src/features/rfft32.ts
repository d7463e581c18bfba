/**
 * A real FFT that rounds like TensorFlow's. TensorFlow computes `tf.signal.stft` in float32 with
 * DUCC's FFTPACK-style real transform (radix-4 passes, radix 2 first for odd powers of two); its
 * rounding errors reach 2e-3 in the log of the quietest mel bands. Replaying the same passes with
 * every operation rounded to float32 reproduces TensorFlow's values, errors included.
 * Power-of-two lengths only.
 */
const f = Math.fround;

interface Pass {
  radix: 2 | 4;
  l1: number;
  ido: number;
  /** (radix - 1) x (ido - 1) twiddles */
  tw: Float64Array;
}

export class Float32RealFFT {
  private readonly passes: Pass[];
  private readonly a: Float64Array;
  private readonly b: Float64Array;

  constructor(readonly size: number) {
    if (!(size >= 2 && (size & (size - 1)) === 0)) throw new RangeError(`FFT length must be a power of two, got ${size}`);
    const factors: (2 | 4)[] = [];
    let len = size;
    while (len % 4 === 0) {
      factors.push(4);
      len /= 4;
    }
    if (len === 2) factors.unshift(2);
    // Twiddles as DUCC makes them: computed in double precision, stored as float32.
    this.passes = [];
    let l1 = 1;
    for (const radix of factors) {
      const ido = size / (l1 * radix);
      const tw = new Float64Array((radix - 1) * Math.max(ido - 1, 0));
      for (let j = 1; j < radix; j++) {
        for (let i = 1; i <= (ido - 1) >> 1; i++) {
          const angle = (2 * Math.PI * j * l1 * i) / size;
          tw[(j - 1) * (ido - 1) + 2 * i - 2] = f(Math.cos(angle));
          tw[(j - 1) * (ido - 1) + 2 * i - 1] = f(Math.sin(angle));
        }
      }
      this.passes.push({ radix, l1, ido, tw });
      l1 *= radix;
    }
    this.a = new Float64Array(size);
    this.b = new Float64Array(size);
  }

  /**
   * Squared-free magnitudes |X_k|, k = 0..size/2, of a real input (float32 values, zero-padded to
   * size), rounded as float32 `tf.abs` of the complex64 spectrum.
   */
  magnitudes(input: ArrayLike<number>, out: Float64Array): void {
    const n = this.size;
    let p1 = this.a;
    let p2 = this.b;
    for (let i = 0; i < n; i++) p1[i] = i < input.length ? input[i] : 0;
    for (let k = this.passes.length - 1; k >= 0; k--) {
      const { radix, l1, ido, tw } = this.passes[k];
      if (radix === 4) radf4(ido, l1, p1, p2, tw);
      else radf2(ido, l1, p1, p2, tw);
      [p1, p2] = [p2, p1];
    }
    // FFTPACK half-complex order: r0, r1, i1, r2, i2, ..., r(n/2)
    out[0] = Math.abs(p1[0]);
    for (let k = 1; k < n / 2; k++) out[k] = f(Math.hypot(p1[2 * k - 1], p1[2 * k]));
    out[n / 2] = Math.abs(p1[n - 1]);
  }
}

function radf4(ido: number, l1: number, cc: Float64Array, ch: Float64Array, wa: Float64Array): void {
  const hsqt2 = f(Math.SQRT1_2);
  const CC = (a: number, b: number, c: number) => cc[a + ido * (b + l1 * c)];
  const CH = (a: number, b: number, c: number) => a + ido * (b + 4 * c);
  for (let k = 0; k < l1; k++) {
    const tr1 = f(CC(0, k, 3) + CC(0, k, 1));
    ch[CH(0, 2, k)] = f(CC(0, k, 3) - CC(0, k, 1));
    const tr2 = f(CC(0, k, 0) + CC(0, k, 2));
    ch[CH(ido - 1, 1, k)] = f(CC(0, k, 0) - CC(0, k, 2));
    ch[CH(0, 0, k)] = f(tr2 + tr1);
    ch[CH(ido - 1, 3, k)] = f(tr2 - tr1);
  }
  if ((ido & 1) === 0) {
    for (let k = 0; k < l1; k++) {
      const ti1 = f(-hsqt2 * f(CC(ido - 1, k, 1) + CC(ido - 1, k, 3)));
      const tr1 = f(hsqt2 * f(CC(ido - 1, k, 1) - CC(ido - 1, k, 3)));
      ch[CH(ido - 1, 0, k)] = f(CC(ido - 1, k, 0) + tr1);
      ch[CH(ido - 1, 2, k)] = f(CC(ido - 1, k, 0) - tr1);
      ch[CH(0, 3, k)] = f(ti1 + CC(ido - 1, k, 2));
      ch[CH(0, 1, k)] = f(ti1 - CC(ido - 1, k, 2));
    }
  }
  if (ido <= 2) return;
  const WA = (x: number, i: number) => wa[i + x * (ido - 1)];
  for (let k = 0; k < l1; k++) {
    for (let i = 2; i < ido; i += 2) {
      const ic = ido - i;
      // MULPM(a, b, c, d, e, f): a = c*e + d*f, b = c*f - d*e
      const cr2 = f(f(WA(0, i - 2) * CC(i - 1, k, 1)) + f(WA(0, i - 1) * CC(i, k, 1)));
      const ci2 = f(f(WA(0, i - 2) * CC(i, k, 1)) - f(WA(0, i - 1) * CC(i - 1, k, 1)));
      const cr3 = f(f(WA(1, i - 2) * CC(i - 1, k, 2)) + f(WA(1, i - 1) * CC(i, k, 2)));
      const ci3 = f(f(WA(1, i - 2) * CC(i, k, 2)) - f(WA(1, i - 1) * CC(i - 1, k, 2)));
      const cr4 = f(f(WA(2, i - 2) * CC(i - 1, k, 3)) + f(WA(2, i - 1) * CC(i, k, 3)));
      const ci4 = f(f(WA(2, i - 2) * CC(i, k, 3)) - f(WA(2, i - 1) * CC(i - 1, k, 3)));
      const tr1 = f(cr4 + cr2);
      const tr4 = f(cr4 - cr2);
      const ti1 = f(ci2 + ci4);
      const ti4 = f(ci2 - ci4);
      const tr2 = f(CC(i - 1, k, 0) + cr3);
      const tr3 = f(CC(i - 1, k, 0) - cr3);
      const ti2 = f(CC(i, k, 0) + ci3);
      const ti3 = f(CC(i, k, 0) - ci3);
      ch[CH(i - 1, 0, k)] = f(tr2 + tr1);
      ch[CH(ic - 1, 3, k)] = f(tr2 - tr1);
      ch[CH(i, 0, k)] = f(ti1 + ti2);
      ch[CH(ic, 3, k)] = f(ti1 - ti2);
      ch[CH(i - 1, 2, k)] = f(tr3 + ti4);
      ch[CH(ic - 1, 1, k)] = f(tr3 - ti4);
      ch[CH(i, 2, k)] = f(tr4 + ti3);
      ch[CH(ic, 1, k)] = f(tr4 - ti3);
    }
  }
}

function radf2(ido: number, l1: number, cc: Float64Array, ch: Float64Array, wa: Float64Array): void {
  const CC = (a: number, b: number, c: number) => cc[a + ido * (b + l1 * c)];
  const CH = (a: number, b: number, c: number) => a + ido * (b + 2 * c);
  for (let k = 0; k < l1; k++) {
    ch[CH(0, 0, k)] = f(CC(0, k, 0) + CC(0, k, 1));
    ch[CH(ido - 1, 1, k)] = f(CC(0, k, 0) - CC(0, k, 1));
  }
  if ((ido & 1) === 0) {
    for (let k = 0; k < l1; k++) {
      ch[CH(0, 1, k)] = -CC(ido - 1, k, 1);
      ch[CH(ido - 1, 0, k)] = CC(ido - 1, k, 0);
    }
  }
  if (ido <= 2) return;
  for (let k = 0; k < l1; k++) {
    for (let i = 2; i < ido; i += 2) {
      const ic = ido - i;
      const tr2 = f(f(wa[i - 2] * CC(i - 1, k, 1)) + f(wa[i - 1] * CC(i, k, 1)));
      const ti2 = f(f(wa[i - 2] * CC(i, k, 1)) - f(wa[i - 1] * CC(i - 1, k, 1)));
      ch[CH(i - 1, 0, k)] = f(CC(i - 1, k, 0) + tr2);
      ch[CH(ic - 1, 1, k)] = f(CC(i - 1, k, 0) - tr2);
      ch[CH(i, 0, k)] = f(ti2 + CC(i, k, 0));
      ch[CH(ic, 1, k)] = f(ti2 - CC(i, k, 0));
    }
  }
}
