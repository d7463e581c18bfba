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
    // float32 hypot is computed in double and rounded once (glibc hypotf), as here.
    for (let k = 1; k < n / 2; k++) out[k] = f(Math.sqrt(p1[2 * k - 1] * p1[2 * k - 1] + p1[2 * k] * p1[2 * k]));
    out[n / 2] = Math.abs(p1[n - 1]);
  }
}

// FFTPACK's radf4 (as in DUCC's rfftp4), each operation rounded to float32.
// cc is indexed [a + ido * (b + l1 * c)], ch [a + ido * (b + 4 * c)], wa [i + x * (ido - 1)].
function radf4(ido: number, l1: number, cc: Float64Array, ch: Float64Array, wa: Float64Array): void {
  const hsqt2 = f(Math.SQRT1_2);
  const s1 = ido * l1; // stride of cc's c index
  const s2 = 2 * s1;
  const s3 = 3 * s1;
  for (let k = 0; k < l1; k++) {
    const c0 = ido * k; // cc(0, k, 0)
    const h0 = ido * 4 * k; // ch(0, 0, k)
    const tr1 = f(cc[c0 + s3] + cc[c0 + s1]);
    ch[h0 + 2 * ido] = f(cc[c0 + s3] - cc[c0 + s1]);
    const tr2 = f(cc[c0] + cc[c0 + s2]);
    ch[h0 + ido - 1 + ido] = f(cc[c0] - cc[c0 + s2]);
    ch[h0] = f(tr2 + tr1);
    ch[h0 + ido - 1 + 3 * ido] = f(tr2 - tr1);
  }
  if ((ido & 1) === 0) {
    for (let k = 0; k < l1; k++) {
      const c = ido - 1 + ido * k;
      const h = ido * 4 * k;
      const ti1 = f(-hsqt2 * f(cc[c + s1] + cc[c + s3]));
      const tr1 = f(hsqt2 * f(cc[c + s1] - cc[c + s3]));
      ch[h + ido - 1] = f(cc[c] + tr1);
      ch[h + ido - 1 + 2 * ido] = f(cc[c] - tr1);
      ch[h + 3 * ido] = f(ti1 + cc[c + s2]);
      ch[h + ido] = f(ti1 - cc[c + s2]);
    }
  }
  if (ido <= 2) return;
  const w1 = 0;
  const w2 = ido - 1;
  const w3 = 2 * (ido - 1);
  for (let k = 0; k < l1; k++) {
    const ck = ido * k;
    const hk = ido * 4 * k;
    for (let i = 2; i < ido; i += 2) {
      const ic = ido - i;
      const a = ck + i - 1; // cc(i - 1, k, 0); cc(i, k, 0) is a + 1
      // MULPM(a, b, c, d, e, f): a = c*e + d*f, b = c*f - d*e
      const wr1 = wa[w1 + i - 2],
        wi1 = wa[w1 + i - 1];
      const wr2 = wa[w2 + i - 2],
        wi2 = wa[w2 + i - 1];
      const wr3 = wa[w3 + i - 2],
        wi3 = wa[w3 + i - 1];
      const cr2 = f(f(wr1 * cc[a + s1]) + f(wi1 * cc[a + s1 + 1]));
      const ci2 = f(f(wr1 * cc[a + s1 + 1]) - f(wi1 * cc[a + s1]));
      const cr3 = f(f(wr2 * cc[a + s2]) + f(wi2 * cc[a + s2 + 1]));
      const ci3 = f(f(wr2 * cc[a + s2 + 1]) - f(wi2 * cc[a + s2]));
      const cr4 = f(f(wr3 * cc[a + s3]) + f(wi3 * cc[a + s3 + 1]));
      const ci4 = f(f(wr3 * cc[a + s3 + 1]) - f(wi3 * cc[a + s3]));
      const tr1 = f(cr4 + cr2);
      const tr4 = f(cr4 - cr2);
      const ti1 = f(ci2 + ci4);
      const ti4 = f(ci2 - ci4);
      const tr2 = f(cc[a] + cr3);
      const tr3 = f(cc[a] - cr3);
      const ti2 = f(cc[a + 1] + ci3);
      const ti3 = f(cc[a + 1] - ci3);
      ch[hk + i - 1] = f(tr2 + tr1);
      ch[hk + ic - 1 + 3 * ido] = f(tr2 - tr1);
      ch[hk + i] = f(ti1 + ti2);
      ch[hk + ic + 3 * ido] = f(ti1 - ti2);
      ch[hk + i - 1 + 2 * ido] = f(tr3 + ti4);
      ch[hk + ic - 1 + ido] = f(tr3 - ti4);
      ch[hk + i + 2 * ido] = f(tr4 + ti3);
      ch[hk + ic + ido] = f(tr4 - ti3);
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
