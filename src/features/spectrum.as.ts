// AssemblyScript, compiled to dist/features/spectrum.wasm by `npm run build` (its build:kernels
// script): the log-mel features' arithmetic, frame after frame of a clip. The plan (the FFT's
// passes and twiddles, the window, the mel filterbank) is made in JS (rfft32.ts, logmel.ts) and
// written into this module's memory; the JS side owns the layout and passes byte offsets.
//
// TensorFlow computes `tf.signal.stft` in float32 with DUCC's FFTPACK-style real transform; its
// rounding errors reach 2e-3 in the log of the quietest mel bands. Every operation here is one
// float32 operation (WebAssembly has no fused multiply-add and rounds each f32 op as IEEE 754
// does), in the order of DUCC's passes, so the values are TensorFlow's, errors included.

/** The module's one allocation: everything it needs, reserved once. */
export function reserve(bytes: usize): usize {
  return heap.alloc(bytes);
}

/**
 * Mel-band sums of `frames` frames of f32 `samples`, frame f from sample f * frameStep: each
 * frame's frameLength samples times the f32 `window`, zero-padded to n, its spectrum's magnitudes
 * (`spectrum`), and band b's sum over bins [start[b], start[b] + count[b]) with f64 `weights`
 * (the bands' weights one after another) into f64 `out` [frames][bands].
 */
export function melSums(
  samples: usize,
  frames: i32,
  frameStep: i32,
  frameLength: i32,
  window: usize,
  n: i32,
  passes: i32,
  plan: usize,
  a: usize,
  b: usize,
  magnitude: usize,
  bands: i32,
  start: usize,
  count: usize,
  weights: usize,
  out: usize,
): void {
  for (let f = 0; f < frames; f++) {
    const frame = samples + (<usize>(f * frameStep) << 2);
    for (let i = 0; i < frameLength; i++) store<f32>(a + (<usize>i << 2), load<f32>(frame + (<usize>i << 2)) * load<f32>(window + (<usize>i << 2)));
    memory.fill(a + (<usize>frameLength << 2), 0, <usize>(n - frameLength) << 2);
    spectrum(n, passes, plan, a, b, magnitude);
    const row = out + (<usize>(f * bands) << 3);
    let w = weights;
    for (let band = 0; band < bands; band++) {
      const from = magnitude + (<usize>load<i32>(start + (<usize>band << 2)) << 3);
      const length = load<i32>(count + (<usize>band << 2));
      let acc: f64 = 0;
      for (let j = 0; j < length; j++) acc += load<f64>(from + (<usize>j << 3)) * load<f64>(w + (<usize>j << 3));
      w += <usize>length << 3;
      store<f64>(row + (<usize>band << 3), acc);
    }
  }
}

/**
 * The magnitudes |X_k|, k = 0..n/2, of the n f32 values in `a` into f64 `magnitude`: the passes
 * of `plan` (4 i32 each, in the order they run: radix, l1, ido, the twiddles' byte offset),
 * between `a` and the scratch `b` (both overwritten).
 */
export function spectrum(n: i32, passes: i32, plan: usize, a: usize, b: usize, magnitude: usize): void {
  let p1 = a;
  let p2 = b;
  for (let k = 0; k < passes; k++) {
    const pass = plan + (<usize>k << 4);
    const l1 = load<i32>(pass, 4);
    const ido = load<i32>(pass, 8);
    const tw = <usize>load<i32>(pass, 12);
    if (load<i32>(pass) == 4) radf4(ido, l1, p1, p2, tw);
    else radf2(ido, l1, p1, p2, tw);
    const t = p1;
    p1 = p2;
    p2 = t;
  }
  magnitudes(p1, n, magnitude);
}

/**
 * |X_k|, k = 0..n/2, from FFTPACK's half-complex order (r0, r1, i1, ..., r(n/2)): float32 hypot
 * is computed in double and rounded once (glibc's hypotf), as here.
 */
// @ts-ignore: decorator
@inline
function magnitudes(x: usize, n: i32, out: usize): void {
  store<f64>(out, Math.abs(<f64>load<f32>(x)));
  for (let k = 1; k < n >> 1; k++) {
    const re = <f64>load<f32>(x + (<usize>(2 * k - 1) << 2));
    const im = <f64>load<f32>(x + (<usize>(2 * k) << 2));
    store<f64>(out + (<usize>k << 3), <f64>(<f32>Math.sqrt(re * re + im * im)));
  }
  store<f64>(out + (<usize>(n >> 1) << 3), Math.abs(<f64>load<f32>(x + (<usize>(n - 1) << 2))));
}

// @ts-ignore: decorator
@inline
function at(base: usize, index: i32): usize {
  return base + (<usize>index << 2);
}

// FFTPACK's radf4 (as in DUCC's rfftp4). cc is indexed [a + ido * (b + l1 * c)], ch
// [a + ido * (b + 4 * c)], wa [i + x * (ido - 1)].
function radf4(ido: i32, l1: i32, cc: usize, ch: usize, wa: usize): void {
  const hsqt2: f32 = <f32>Math.SQRT1_2;
  const s1 = ido * l1; // stride of cc's c index
  const s2 = 2 * s1;
  const s3 = 3 * s1;
  for (let k = 0; k < l1; k++) {
    const c0 = ido * k; // cc(0, k, 0)
    const h0 = ido * 4 * k; // ch(0, 0, k)
    const tr1: f32 = load<f32>(at(cc, c0 + s3)) + load<f32>(at(cc, c0 + s1));
    store<f32>(at(ch, h0 + 2 * ido), load<f32>(at(cc, c0 + s3)) - load<f32>(at(cc, c0 + s1)));
    const tr2: f32 = load<f32>(at(cc, c0)) + load<f32>(at(cc, c0 + s2));
    store<f32>(at(ch, h0 + ido - 1 + ido), load<f32>(at(cc, c0)) - load<f32>(at(cc, c0 + s2)));
    store<f32>(at(ch, h0), tr2 + tr1);
    store<f32>(at(ch, h0 + ido - 1 + 3 * ido), tr2 - tr1);
  }
  if ((ido & 1) == 0) {
    for (let k = 0; k < l1; k++) {
      const c = ido - 1 + ido * k;
      const h = ido * 4 * k;
      const ti1: f32 = -hsqt2 * (load<f32>(at(cc, c + s1)) + load<f32>(at(cc, c + s3)));
      const tr1: f32 = hsqt2 * (load<f32>(at(cc, c + s1)) - load<f32>(at(cc, c + s3)));
      store<f32>(at(ch, h + ido - 1), load<f32>(at(cc, c)) + tr1);
      store<f32>(at(ch, h + ido - 1 + 2 * ido), load<f32>(at(cc, c)) - tr1);
      store<f32>(at(ch, h + 3 * ido), ti1 + load<f32>(at(cc, c + s2)));
      store<f32>(at(ch, h + ido), ti1 - load<f32>(at(cc, c + s2)));
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
      const wr1 = load<f32>(at(wa, w1 + i - 2));
      const wi1 = load<f32>(at(wa, w1 + i - 1));
      const wr2 = load<f32>(at(wa, w2 + i - 2));
      const wi2 = load<f32>(at(wa, w2 + i - 1));
      const wr3 = load<f32>(at(wa, w3 + i - 2));
      const wi3 = load<f32>(at(wa, w3 + i - 1));
      const x1r = load<f32>(at(cc, a + s1));
      const x1i = load<f32>(at(cc, a + s1 + 1));
      const x2r = load<f32>(at(cc, a + s2));
      const x2i = load<f32>(at(cc, a + s2 + 1));
      const x3r = load<f32>(at(cc, a + s3));
      const x3i = load<f32>(at(cc, a + s3 + 1));
      const cr2: f32 = wr1 * x1r + wi1 * x1i;
      const ci2: f32 = wr1 * x1i - wi1 * x1r;
      const cr3: f32 = wr2 * x2r + wi2 * x2i;
      const ci3: f32 = wr2 * x2i - wi2 * x2r;
      const cr4: f32 = wr3 * x3r + wi3 * x3i;
      const ci4: f32 = wr3 * x3i - wi3 * x3r;
      const tr1: f32 = cr4 + cr2;
      const tr4: f32 = cr4 - cr2;
      const ti1: f32 = ci2 + ci4;
      const ti4: f32 = ci2 - ci4;
      const x0r = load<f32>(at(cc, a));
      const x0i = load<f32>(at(cc, a + 1));
      const tr2: f32 = x0r + cr3;
      const tr3: f32 = x0r - cr3;
      const ti2: f32 = x0i + ci3;
      const ti3: f32 = x0i - ci3;
      store<f32>(at(ch, hk + i - 1), tr2 + tr1);
      store<f32>(at(ch, hk + ic - 1 + 3 * ido), tr2 - tr1);
      store<f32>(at(ch, hk + i), ti1 + ti2);
      store<f32>(at(ch, hk + ic + 3 * ido), ti1 - ti2);
      store<f32>(at(ch, hk + i - 1 + 2 * ido), tr3 + ti4);
      store<f32>(at(ch, hk + ic - 1 + ido), tr3 - ti4);
      store<f32>(at(ch, hk + i + 2 * ido), tr4 + ti3);
      store<f32>(at(ch, hk + ic + ido), tr4 - ti3);
    }
  }
}

// FFTPACK's radf2 (as in DUCC's rfftp2): the first pass of an odd power of two.
function radf2(ido: i32, l1: i32, cc: usize, ch: usize, wa: usize): void {
  const s1 = ido * l1; // cc's c = 1
  for (let k = 0; k < l1; k++) {
    const c0 = ido * k;
    const h0 = 2 * ido * k;
    store<f32>(at(ch, h0), load<f32>(at(cc, c0)) + load<f32>(at(cc, c0 + s1)));
    store<f32>(at(ch, h0 + ido - 1 + ido), load<f32>(at(cc, c0)) - load<f32>(at(cc, c0 + s1)));
  }
  if ((ido & 1) == 0) {
    for (let k = 0; k < l1; k++) {
      const c = ido - 1 + ido * k;
      const h = 2 * ido * k;
      store<f32>(at(ch, h + ido), -load<f32>(at(cc, c + s1)));
      store<f32>(at(ch, h + ido - 1), load<f32>(at(cc, c)));
    }
  }
  if (ido <= 2) return;
  for (let k = 0; k < l1; k++) {
    const ck = ido * k;
    const hk = 2 * ido * k;
    for (let i = 2; i < ido; i += 2) {
      const ic = ido - i;
      const wr = load<f32>(at(wa, i - 2));
      const wi = load<f32>(at(wa, i - 1));
      const xr = load<f32>(at(cc, ck + i - 1 + s1));
      const xi = load<f32>(at(cc, ck + i + s1));
      const tr2: f32 = wr * xr + wi * xi;
      const ti2: f32 = wr * xi - wi * xr;
      store<f32>(at(ch, hk + i - 1), load<f32>(at(cc, ck + i - 1)) + tr2);
      store<f32>(at(ch, hk + ic - 1 + ido), load<f32>(at(cc, ck + i - 1)) - tr2);
      store<f32>(at(ch, hk + i), ti2 + load<f32>(at(cc, ck + i)));
      store<f32>(at(ch, hk + ic + ido), ti2 - load<f32>(at(cc, ck + i)));
    }
  }
}
