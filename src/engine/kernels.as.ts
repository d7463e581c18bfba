// AssemblyScript, compiled to dist/engine/kernels.wasm by `npm run build` (its build:kernels script):
// the packed engine's layers, and at the end the dense layers that train custom exit heads (one
// module, so that the page's worker that trains them loads no second one).
//
// The network's layers on bit-packed activations. Channel c of a position lives in bit c % 32 of
// its word c / 32; a set bit is +1, a clear bit -1; bits past the last channel are 0. A ±1 dot
// product over n channels is n - 2 * (mismatches of x and w), and the folded BatchNorm + sign
// bit = (dot >= T) XOR flip is (mismatches > floor((n - T) / 2)) XOR NOT flip: the kernels compare
// mismatch counts with limits, and flip masks hold NOT flip (the JS side derives both).
//
// Mismatch counts come from tables, not popcounts (WebAssembly's i8x16.popcnt is eight x86
// instructions): a binary layer's weights are fixed, so for every 4-bit chunk (nibble) of its input
// run and each of its 16 values, the table row holds the mismatches of that nibble with every
// output channel's weights, half a byte per channel (a count is at most 4). A position's counts are
// the sum of one row per nibble: 32 channels x 4 input bits per byte-vector add, three rows added
// packed before they are split into low and high nibbles. Tables: [chunk][16][channels padded to
// 32, two a byte], each chunk padded by a cache line (chunkStride); outputs go 32 channels (one
// word, four i16x8 of counts) at a time.
// The JS side owns the memory layout and passes byte offsets.

/** The engine's one allocation: everything it needs, reserved once at load. */
export function reserve(bytes: usize): usize {
  return heap.alloc(bytes);
}

/** Bytes from one nibble's 16 rows to the next's: padded by a cache line, so that the same value's rows of successive nibbles do not all fall in one cache set. */
@inline
function chunkStride(rowBytes: usize): usize {
  return (rowBytes << 4) + 64;
}

// A nibble is at most 4 (a nibble's mismatches): 63 rows fit a byte before it must be widened.
const ROWS_PER_BYTE_SUM: i32 = 63;

/**
 * The table rows a run of input words selects: one address per nibble, into `rows`. Four words a
 * turn, in SIMD: the 32 nibbles in order (a byte's low nibble, then its high one), widened to
 * 32-bit lanes, times the row size, plus the chunk's place in the table. A run whose length is not
 * a multiple of four selects a few rows past its end, from words past its end: never summed.
 */
@inline
function selectRows(x: usize, words: i32, table: usize, rowBytes: usize, rows: usize): void {
  const chunkBytes = <i32>chunkStride(rowBytes);
  const scale = i32x4.splat(<i32>rowBytes);
  const step = i32x4.splat(chunkBytes << 2);
  let base = i32x4.add(i32x4.splat(<i32>table), i32x4.mul(i32x4(0, 1, 2, 3), i32x4.splat(chunkBytes)));
  const mask = i8x16.splat(15);
  for (let k = 0; k < words; k += 4) {
    const v = v128.load(x + (<usize>k << 2));
    const lo = v128.and(v, mask);
    const hi = v128.and(i16x8.shr_u(v, 4), mask);
    const r = rows + (<usize>k << 5);
    for (let half = 0; half < 2; half++) {
      const nibbles = half == 0
        ? i8x16.shuffle(lo, hi, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23)
        : i8x16.shuffle(lo, hi, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
      const low = i16x8.extend_low_i8x16_u(nibbles);
      const high = i16x8.extend_high_i8x16_u(nibbles);
      const at = r + (<usize>half << 6);
      v128.store(at, i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_u(low), scale), base));
      base = i32x4.add(base, step);
      v128.store(at, i32x4.add(i32x4.mul(i32x4.extend_high_i16x8_u(low), scale), base), 16);
      base = i32x4.add(base, step);
      v128.store(at, i32x4.add(i32x4.mul(i32x4.extend_low_i16x8_u(high), scale), base), 32);
      base = i32x4.add(base, step);
      v128.store(at, i32x4.add(i32x4.mul(i32x4.extend_high_i16x8_u(high), scale), base), 48);
      base = i32x4.add(base, step);
    }
  }
}

// Mismatch counts of the block of 32 channels being worked on (sumRows; poolCounts: the pooled ones): channels 0-7, 8-15, 16-23, 24-31.
let c0: v128, c1: v128, c2: v128, c3: v128;

/**
 * c0..c3 = the sums over `count` selected rows of the 16 bytes at `at` in each row: 32 channels'
 * counts as nibbles, channel i in the low nibble of byte i and channel 16 + i in its high one. A
 * nibble holds at most 4, so three rows add as packed bytes (at most 12) before they are split.
 */
@inline
function sumRows(rows: usize, count: i32, at: usize): void {
  c0 = c1 = c2 = c3 = i16x8.splat(0);
  const low = i8x16.splat(15);
  for (let k0 = 0; k0 < count; k0 += ROWS_PER_BYTE_SUM) {
    let a = i8x16.splat(0), b = i8x16.splat(0);
    const end = min(count, k0 + ROWS_PER_BYTE_SUM);
    let k = k0;
    for (; k + 2 < end; k += 3) {
      const at0 = rows + (<usize>k << 2);
      const r = i8x16.add(i8x16.add(v128.load(<usize>load<u32>(at0) + at), v128.load(<usize>load<u32>(at0, 4) + at)), v128.load(<usize>load<u32>(at0, 8) + at));
      a = i8x16.add(a, v128.and(r, low));
      b = i8x16.add(b, v128.and(i16x8.shr_u(r, 4), low));
    }
    if (k < end) {
      const at0 = rows + (<usize>k << 2);
      let r = v128.load(<usize>load<u32>(at0) + at);
      if (k + 1 < end) r = i8x16.add(r, v128.load(<usize>load<u32>(at0, 4) + at));
      a = i8x16.add(a, v128.and(r, low));
      b = i8x16.add(b, v128.and(i16x8.shr_u(r, 4), low));
    }
    c0 = i16x8.add(c0, i16x8.extend_low_i8x16_u(a));
    c1 = i16x8.add(c1, i16x8.extend_high_i8x16_u(a));
    c2 = i16x8.add(c2, i16x8.extend_low_i8x16_u(b));
    c3 = i16x8.add(c3, i16x8.extend_high_i8x16_u(b));
  }
}

/**
 * The table rows of a (1x3) or (3x1) position's taps inside the input (position b of row a of
 * [outer][inner][inWords]); returns how many taps that is: 3, or 2 on a border (1 for inner = 1).
 */
@inline
function selectTapRows(x: usize, a: i32, b: i32, inner: i32, inWords: i32, table: usize, rowBytes: usize, rows: usize): i32 {
  const first = b > 0 ? 0 : 1;
  const taps = (b < inner - 1 ? 3 : 2) - first;
  const tapTable = (<usize>inWords << 3) * chunkStride(rowBytes);
  selectRows(x + (<usize>((a * inner + b + first - 1) * inWords) << 2), taps * inWords, table + <usize>first * tapTable, rowBytes, rows);
  return taps;
}

/** The table rows of the four positions of pooled position (i, j) of a (1x1) conv's input [height][width][inWords], a window apart. */
@inline
function selectWindowRows(x: usize, i: i32, j: i32, width: i32, inWords: i32, table: usize, rowBytes: usize, rows: usize, windowRows: usize): void {
  const p = x + (<usize>((2 * i * width + 2 * j) * inWords) << 2);
  const right = <usize>inWords << 2;
  const down = <usize>(width * inWords) << 2;
  selectRows(p, inWords, table, rowBytes, rows);
  selectRows(p + right, inWords, table, rowBytes, rows + windowRows);
  selectRows(p + down, inWords, table, rowBytes, rows + 2 * windowRows);
  selectRows(p + down + right, inWords, table, rowBytes, rows + 3 * windowRows);
}

/** c0..c3 = the min over the four windows' mismatch counts (the max-pooled dot products) of 32 channels at `at`. */
@inline
function poolCounts(rows: usize, windowRows: usize, count: i32, at: usize): void {
  let m0 = i16x8.splat(-1), m1 = m0, m2 = m0, m3 = m0;
  for (let d = 0; d < 4; d++) {
    sumRows(rows + <usize>d * windowRows, count, at);
    m0 = i16x8.min_u(m0, c0);
    m1 = i16x8.min_u(m1, c1);
    m2 = i16x8.min_u(m2, c2);
    m3 = i16x8.min_u(m3, c3);
  }
  c0 = m0;
  c1 = m1;
  c2 = m2;
  c3 = m3;
}

/** Eight channels' bits as a mask: (count > limit) XOR flip, lane by lane (i16). */
@inline
function overLimit(count: v128, limit: usize, flip: usize): v128 {
  return v128.xor(i16x8.gt_s(count, v128.load(limit)), v128.load(flip));
}

/** A word of 32 channels' bits from their counts and their limits and flips (i16 each). */
@inline
function wordBits(p0: v128, p1: v128, p2: v128, p3: v128, limits: usize, flips: usize): u32 {
  const low = i8x16.bitmask(i8x16.narrow_i16x8_s(overLimit(p0, limits, flips), overLimit(p1, limits + 16, flips + 16)));
  const high = i8x16.bitmask(i8x16.narrow_i16x8_s(overLimit(p2, limits + 32, flips + 32), overLimit(p3, limits + 48, flips + 48)));
  return <u32>low | (<u32>high << 16);
}

/** Four groups' masks (all-ones or zero i32 lanes) as sixteen bits: they narrow to bytes, then one bitmask. */
@inline
function quadBits(m0: v128, m1: v128, m2: v128, m3: v128): u32 {
  return <u32>i8x16.bitmask(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3)));
}

/**
 * A group's bits in the first block: y = w0 * before + w1 * centre + w2 * after, each product and
 * sum rounded in this order, the model's at inference (QuantConv2D's tapConv), then y > threshold.
 * The JS side folds BatchNorm's sign into it: (y >= T) is y > the float below T, and a flipped
 * channel's NOT (y >= T) is -y > -T, with the kernel negated (negation commutes with rounding).
 */
@inline
function realSign(before: v128, centre: v128, after: v128, w: usize, threshold: usize): v128 {
  let y = f32x4.mul(before, v128.load(w));
  y = f32x4.add(y, f32x4.mul(centre, v128.load(w, 16)));
  y = f32x4.add(y, f32x4.mul(after, v128.load(w, 32)));
  return f32x4.gt(y, v128.load(threshold));
}

/** Bits of `groups` groups of four channels from one position's three taps, a u16 per four groups at `out`. */
@inline
function realSignWords(before: v128, centre: v128, after: v128, weights: usize, thresholds: usize, groups: i32, out: usize): void {
  for (let g = 0; g < groups; g += 4) {
    const wg = weights + <usize>g * 48;
    const t = thresholds + (<usize>g << 4);
    const bits = quadBits(
      realSign(before, centre, after, wg, t),
      realSign(before, centre, after, wg + 48, t + 16),
      realSign(before, centre, after, wg + 96, t + 32),
      realSign(before, centre, after, wg + 144, t + 48),
    );
    store<u16>(out + (<usize>g >> 1), <u16>bits); // 4 channels a group: group g's bits start at byte g / 2
  }
}

/**
 * The first block's (1x3) (taps along the width) and (3x1) (along the height) convolutions, 'same'
 * zero padding, of the one-channel real-valued input with float kernels (±1, scaled ±1 or real
 * weights), then BatchNorm + sign as a float threshold, in one pass over the input. Four channels
 * to a group: weights [group][tap] f32x4, thresholds one f32x4 per group; groups a multiple of 8.
 * Output [position][outStride] words: the (1x3) conv's groups / 8 words, then the (3x1) conv's.
 */
export function realConvsSign(
  x: usize, height: i32, width: i32, weights1x3: usize, weights3x1: usize, groups: i32,
  thresholds1x3: usize, thresholds3x1: usize, out: usize, outStride: i32,
): void {
  const rowBytes = <usize>width << 2;
  const secondHalf = <usize>groups >> 1;
  for (let h = 0; h < height; h++) {
    for (let w = 0; w < width; w++) {
      const pos = h * width + w;
      const here = x + (<usize>pos << 2);
      const centre = f32x4.splat(load<f32>(here));
      const o = out + (<usize>(pos * outStride) << 2);
      realSignWords(
        f32x4.splat(w > 0 ? load<f32>(here - 4) : 0),
        centre,
        f32x4.splat(w < width - 1 ? load<f32>(here + 4) : 0),
        weights1x3, thresholds1x3, groups, o,
      );
      realSignWords(
        f32x4.splat(h > 0 ? load<f32>(here - rowBytes) : 0),
        centre,
        f32x4.splat(h < height - 1 ? load<f32>(here + rowBytes) : 0),
        weights3x1, thresholds3x1, groups, o + secondHalf,
      );
    }
  }
}

/**
 * A binary (1x3) or (3x1) convolution, 'same' zero padding, then BatchNorm + sign. The input is
 * laid out with the taps' axis innermost, [outer][inner][inWords], so that a position's taps are
 * one run of words: row-major for the (1x3) (along = 0), column-major for the (3x1) (along = 1).
 * The table covers the three taps' 24 * inWords nibbles. A tap in the padding contributes 0, so a
 * border position's dot product runs over fewer channels: limits are [3 - taps][channels] i16.
 * The output is row-major: [position][outStride] words, from word outOffset; `blocks` words.
 */
export function binConvSign(
  x: usize, outer: i32, inner: i32, inWords: i32, along: i32, table: usize, blocks: i32,
  limits: usize, flips: usize, out: usize, outStride: i32, outOffset: i32, rows: usize,
): void {
  const rowBytes = <usize>blocks << 4;
  for (let a = 0; a < outer; a++) {
    for (let b = 0; b < inner; b++) {
      const taps = selectTapRows(x, a, b, inner, inWords, table, rowBytes, rows);
      const count = (taps * inWords) << 3;
      const tapLimits = limits + <usize>(3 - taps) * (<usize>blocks << 6);
      const pos = along == 0 ? a * inner + b : b * outer + a;
      const o = out + (<usize>(pos * outStride + outOffset) << 2);
      for (let j = 0; j < blocks; j++) {
        sumRows(rows, count, <usize>j << 4);
        store<u32>(o + (<usize>j << 2), wordBits(c0, c1, c2, c3, tapLimits + (<usize>j << 6), flips + (<usize>j << 6)));
      }
    }
  }
}

/**
 * The block's binary (1x1) convolution, 2x2 max-pool (valid: an odd last row or column is dropped),
 * then BatchNorm + sign: the max of four dot products is the min of their mismatch counts. Writes
 * the result row-major to `out` and column-major to `outT` (the next block's (3x1) reads that).
 * Also keeps, per channel, the smallest and largest pooled count (u16), from which the exit head's
 * global max-pool of the BatchNorm output follows: stats [channels] min, then [channels] max.
 * With `cellCount` > 0 it also sums the pooled counts of each grid cell, for the pooled exit
 * head's means: cells [cell][channels] u32, a pooled position (i, j) in cell
 * cellRows[i] * gridColumns + cellColumns[j] (i32 arrays).
 */
export function pointConvPoolSign(
  x: usize, height: i32, width: i32, inWords: i32, table: usize, blocks: i32,
  limits: usize, flips: usize, out: usize, outT: usize, stats: usize, rows: usize,
  cells: usize, cellCount: i32, cellRows: usize, cellColumns: usize, gridColumns: i32,
): void {
  const pooledHeight = height >> 1;
  const pooledWidth = width >> 1;
  const rowBytes = <usize>blocks << 4;
  const channels = <usize>blocks << 5;
  const maxStats = stats + (channels << 1);
  for (let k: usize = 0; k < channels << 1; k += 16) {
    v128.store(stats + k, i16x8.splat(-1));
    v128.store(maxStats + k, i16x8.splat(0));
  }
  const cellBytes = channels << 2;
  for (let k: usize = 0; k < <usize>cellCount * cellBytes; k += 16) v128.store(cells + k, i32x4.splat(0));
  const count = inWords << 3;
  const windowRows = <usize>count << 2;
  for (let i = 0; i < pooledHeight; i++) {
    for (let j = 0; j < pooledWidth; j++) {
      selectWindowRows(x, i, j, width, inWords, table, rowBytes, rows, windowRows);
      const o = out + (<usize>((i * pooledWidth + j) * blocks) << 2);
      const oT = outT + (<usize>((j * pooledHeight + i) * blocks) << 2);
      const cell = cellCount > 0 ? cells + <usize>(load<i32>(cellRows + (<usize>i << 2)) * gridColumns + load<i32>(cellColumns + (<usize>j << 2))) * cellBytes : 0;
      for (let jb = 0; jb < blocks; jb++) {
        const at = <usize>jb << 5;
        poolCounts(rows, windowRows, count, <usize>jb << 4);
        const s = at << 1;
        trackStats(stats + s, maxStats + s, c0, c1, c2, c3);
        if (cell) {
          const c = cell + (at << 2);
          addCounts(c, c0);
          addCounts(c + 32, c1);
          addCounts(c + 64, c2);
          addCounts(c + 96, c3);
        }
        const word = wordBits(c0, c1, c2, c3, limits + s, flips + s);
        store<u32>(o + (<usize>jb << 2), word);
        store<u32>(oT + (<usize>jb << 2), word);
      }
    }
  }
}

/** Adds 8 channels' pooled counts (u16) to their cell's sums (u32). */
@inline
function addCounts(sums: usize, counts: v128): void {
  v128.store(sums, i32x4.add(v128.load(sums), i32x4.extend_low_i16x8_u(counts)));
  v128.store(sums, i32x4.add(v128.load(sums, 16), i32x4.extend_high_i16x8_u(counts)), 16);
}

/** Folds 32 channels' pooled counts into their min (at mins) and max (at maxes), u16. */
@inline
function trackStats(mins: usize, maxes: usize, p0: v128, p1: v128, p2: v128, p3: v128): void {
  v128.store(mins, i16x8.min_u(v128.load(mins), p0));
  v128.store(mins, i16x8.min_u(v128.load(mins, 16), p1), 16);
  v128.store(mins, i16x8.min_u(v128.load(mins, 32), p2), 32);
  v128.store(mins, i16x8.min_u(v128.load(mins, 48), p3), 48);
  v128.store(maxes, i16x8.max_u(v128.load(maxes), p0));
  v128.store(maxes, i16x8.max_u(v128.load(maxes, 16), p1), 16);
  v128.store(maxes, i16x8.max_u(v128.load(maxes, 32), p2), 32);
  v128.store(maxes, i16x8.max_u(v128.load(maxes, 48), p3), 48);
}

/**
 * An exit head's dense layer: out[j] = bias[j] + sum_f x[f] * kernel[f][j], then max(0, .) if
 * `relu`. Weights are float32 (as trained), the sums float64, added in the order f = 0, 1, ...: the
 * same arithmetic as a plain loop, two units a vector. `units` is padded to a multiple of 4 (the
 * padding columns of kernel and bias are 0); x and out are f64 [n] and [units].
 */
export function dense(x: usize, n: i32, kernel: usize, bias: usize, out: usize, units: i32, relu: i32): void {
  const rowBytes = <usize>units << 2;
  for (let k: usize = 0; k < rowBytes; k += 16) {
    const b = v128.load(bias + k);
    v128.store(out + (k << 1), f64x2.promote_low_f32x4(b));
    v128.store(out + (k << 1) + 16, f64x2.promote_low_f32x4(v128.shuffle<i32>(b, b, 2, 3, 2, 3)));
  }
  for (let f = 0; f < n; f++) {
    const v = f64x2.splat(load<f64>(x + (<usize>f << 3)));
    const row = kernel + <usize>f * rowBytes;
    for (let k: usize = 0; k < rowBytes; k += 16) {
      const w = v128.load(row + k);
      const o = out + (k << 1);
      v128.store(o, f64x2.add(v128.load(o), f64x2.mul(v, f64x2.promote_low_f32x4(w))));
      v128.store(o + 16, f64x2.add(v128.load(o + 16), f64x2.mul(v, f64x2.promote_low_f32x4(v128.shuffle<i32>(w, w, 2, 3, 2, 3)))));
    }
  }
  if (relu) for (let k: usize = 0; k < rowBytes << 1; k += 16) v128.store(out + k, f64x2.max(v128.load(out + k), f64x2.splat(0)));
}

// The residual architectures (bireal, reactnet) keep real activations h [position][channels
// padded to 32] f32 between their binary convolutions: each convolution reads sign(h - t_c) as
// bits, and its BatchNorm'd dot products are added back into h.

/** RPReLU of four channels: (z >= 0 ? z : slope * z) + zeta with z = x - gamma. */
@inline
function rprelu4(x: v128, gamma: usize, slope: usize, zeta: usize): v128 {
  const z = f32x4.sub(x, v128.load(gamma));
  return f32x4.add(v128.bitselect(z, f32x4.mul(z, v128.load(slope)), f32x4.ge(z, f32x4.splat(0))), v128.load(zeta));
}

/** Applies RPReLU in place to 32 channels at h (weights at offset `at` of each vector). */
@inline
function rprelu32(h: usize, at: usize, gamma: usize, slope: usize, zeta: usize): void {
  for (let k: usize = 0; k < 128; k += 16) v128.store(h + k, rprelu4(v128.load(h + k), gamma + at + k, slope + at + k, zeta + at + k));
}

/** A word of 32 channels' sign bits: bit c = h[c] >= thresholds[c]. */
@inline
function signWord(h: usize, t: usize): u32 {
  const m0 = i16x8.narrow_i32x4_s(f32x4.ge(v128.load(h), v128.load(t)), f32x4.ge(v128.load(h, 16), v128.load(t, 16)));
  const m1 = i16x8.narrow_i32x4_s(f32x4.ge(v128.load(h, 32), v128.load(t, 32)), f32x4.ge(v128.load(h, 48), v128.load(t, 48)));
  const m2 = i16x8.narrow_i32x4_s(f32x4.ge(v128.load(h, 64), v128.load(t, 64)), f32x4.ge(v128.load(h, 80), v128.load(t, 80)));
  const m3 = i16x8.narrow_i32x4_s(f32x4.ge(v128.load(h, 96), v128.load(t, 96)), f32x4.ge(v128.load(h, 112), v128.load(t, 112)));
  return <u32>i8x16.bitmask(i8x16.narrow_i16x8_s(m0, m1)) | (<u32>i8x16.bitmask(i8x16.narrow_i16x8_s(m2, m3)) << 16);
}

/**
 * Sign bits of h as a binary convolution reads them: bit c = h[c] >= thresholds[c] (the RSign
 * shift, else 0; x - t >= 0 exactly when x >= t in float32). A padding channel's threshold is
 * +inf: its bit stays 0. With `rp`, RPReLU (gamma, slope, zeta) is first applied to h in place.
 * `positions` row-major, `blocks` words each (the convolutions after it take their bits fused).
 */
export function signBits(h: usize, positions: i32, blocks: i32, rp: i32, gamma: usize, slope: usize, zeta: usize, thresholds: usize, out: usize): void {
  for (let pos = 0; pos < positions; pos++) {
    const x = h + (<usize>(pos * blocks) << 7);
    const o = out + (<usize>(pos * blocks) << 2);
    for (let jb = 0; jb < blocks; jb++) {
      const at = <usize>jb << 7;
      if (rp) rprelu32(x + at, at, gamma, slope, zeta);
      store<u32>(o + (<usize>jb << 2), signWord(x + at, thresholds + at));
    }
  }
}

/** h[0..3] += BN(alpha * dot) of four channels: ((dot * alpha) * scale + shift), each step rounded in float32 as the model rounds it. */
@inline
function addDot4(h: usize, dot: v128, alpha: usize, scale: usize, shift: usize): void {
  const x = f32x4.mul(f32x4.convert_i32x4_s(dot), v128.load(alpha));
  v128.store(h, f32x4.add(v128.load(h), f32x4.add(f32x4.mul(x, v128.load(scale)), v128.load(shift))));
}

/** h[0..7] += BN(alpha * dot) of eight channels, dot = n - 2 * counts (the ±1 dot products). */
@inline
function addDots(h: usize, counts: v128, n: v128, alpha: usize, scale: usize, shift: usize): void {
  const dots = i16x8.sub(n, i16x8.shl(counts, 1));
  addDot4(h, i32x4.extend_low_i16x8_s(dots), alpha, scale, shift);
  addDot4(h + 16, i32x4.extend_high_i16x8_s(dots), alpha + 16, scale + 16, shift + 16);
}

/**
 * A binary (1x3) (along = 0) or (3x1) (along = 1) convolution of C = `channels` input channels,
 * 'same' zero padding, its kernel scale alpha and BatchNorm (scale and shift), added into h
 * (row-major [position][blocks * 32] f32): h += BN(alpha * dot), then RPReLU in place where `rp`. The input bits are
 * laid out as binConvSign's. A border position's dot runs over its taps inside the input:
 * n = taps * C. Unless `next` is 0, the sign bits of the result (thresholds `nextThresholds`) go
 * there for the convolution that follows, in the layout it reads: column-major after a (1x3),
 * row-major after a (3x1); both are position b * outer + a.
 */
export function binConvResidual(
  x: usize, outer: i32, inner: i32, inWords: i32, along: i32, table: usize, blocks: i32,
  channels: i32, alpha: usize, scale: usize, shift: usize, h: usize, rows: usize,
  rp: i32, gamma: usize, slope: usize, zeta: usize, nextThresholds: usize, next: usize,
): void {
  const rowBytes = <usize>blocks << 4;
  for (let a = 0; a < outer; a++) {
    for (let b = 0; b < inner; b++) {
      const taps = selectTapRows(x, a, b, inner, inWords, table, rowBytes, rows);
      const count = (taps * inWords) << 3;
      const n = i16x8.splat(<i16>(taps * channels));
      const pos = along == 0 ? a * inner + b : b * outer + a;
      const o = h + (<usize>(pos * blocks) << 7);
      const nextWords = next + (<usize>((b * outer + a) * blocks) << 2);
      for (let j = 0; j < blocks; j++) {
        sumRows(rows, count, <usize>j << 4);
        const at = <usize>j << 7;
        addDots(o + at, c0, n, alpha + at, scale + at, shift + at);
        addDots(o + at + 32, c1, n, alpha + at + 32, scale + at + 32, shift + at + 32);
        addDots(o + at + 64, c2, n, alpha + at + 64, scale + at + 64, shift + at + 64);
        addDots(o + at + 96, c3, n, alpha + at + 96, scale + at + 96, shift + at + 96);
        if (rp) rprelu32(o + at, at, gamma, slope, zeta);
        if (next) store<u32>(nextWords + (<usize>j << 2), signWord(o + at, nextThresholds + at));
      }
    }
  }
}

/**
 * The downsampling binary (1x1) convolution of C = `channels` inputs, 2x2 max-pool (valid), its
 * kernel scale and BatchNorm: out = BN(alpha * max of four dot products) (alpha > 0: the max
 * commutes with it, rounding included), row-major [pooled position][blocks * 32] f32 (out starts
 * at 0: written, not added). The max dot is the min mismatch count.
 */
export function pointConvPoolResidual(
  x: usize, height: i32, width: i32, inWords: i32, table: usize, blocks: i32,
  channels: i32, alpha: usize, scale: usize, shift: usize, out: usize, rows: usize,
): void {
  const pooledHeight = height >> 1;
  const pooledWidth = width >> 1;
  const rowBytes = <usize>blocks << 4;
  // the nibbles that hold input channels: a padding nibble's row is all 0 (0 bits against 0 bits)
  const count = (channels + 3) >> 2;
  const windowRows = <usize>(inWords << 3) << 2;
  const n = i16x8.splat(<i16>channels);
  for (let i = 0; i < pooledHeight; i++) {
    for (let j = 0; j < pooledWidth; j++) {
      selectWindowRows(x, i, j, width, inWords, table, rowBytes, rows, windowRows);
      const o = out + (<usize>((i * pooledWidth + j) * blocks) << 7);
      for (let jb = 0; jb < blocks; jb++) {
        const at = <usize>jb << 5;
        poolCounts(rows, windowRows, count, <usize>jb << 4);
        const ob = o + (at << 2);
        const sb = at << 2;
        for (let k: usize = 0; k < 128; k += 16) v128.store(ob + k, f32x4.splat(0));
        addDots(ob, c0, n, alpha + sb, scale + sb, shift + sb);
        addDots(ob + 32, c1, n, alpha + sb + 32, scale + sb + 32, shift + sb + 32);
        addDots(ob + 64, c2, n, alpha + sb + 64, scale + sb + 64, shift + sb + 64);
        addDots(ob + 96, c3, n, alpha + sb + 96, scale + sb + 96, shift + sb + 96);
      }
    }
  }
}

/** out += s * scale + shift, one vector of 4 output channels. */
@inline
function addAffine(out: usize, s: v128, scale: usize, shift: usize): void {
  v128.store(out, f32x4.add(v128.load(out), f32x4.add(f32x4.mul(s, v128.load(scale)), v128.load(shift))));
}

/** A float64 rounded to float32 and back: what a float32 FMA rounds, after an exact product and a float64 sum. */
@inline
function round32(x: v128): v128 {
  return f64x2.promote_low_f32x4(f32x4.demote_f64x2_zero(x));
}

/** acc = fma(x, w, acc) in float32, two lanes: x * w is exact in float64, so one more rounding is the FMA's (but for a double rounding, about once in 2^29). */
@inline
function fma2(acc: v128, x: v128, w: v128): v128 {
  return round32(f64x2.add(acc, f64x2.mul(x, w)));
}

/** Two float64 lanes of float32 lanes a, b into one float32x4 (lanes of a, then of b). */
@inline
function narrow4(a: v128, b: v128): v128 {
  return v128.shuffle<i32>(f32x4.demote_f64x2_zero(a), f32x4.demote_f64x2_zero(b), 0, 1, 4, 5);
}

/**
 * The real downsampling shortcut, added into out: out[p] += BN(conv1x1(avgpool2x2(h))[p]), with h
 * [height][width][inPadded] f32, the kernel [inChannels][outPadded] f32, out [pooled][outPadded].
 * `avg` is scratch for every pooled position's averages ([pooled][inPadded] f32), each
 * (((a + b) + c) + d) * 0.25, the window's values in row-major order, as TensorFlow's average
 * pool. Each dot product is TensorFlow's: an FMA per input channel, in order, from 0 (emulated
 * in float64 lanes: WebAssembly has no FMA). Four output channels of two positions at a time.
 */
export function shortcutAdd(
  h: usize, height: i32, width: i32, inPadded: i32, inChannels: i32, kernel: usize, outPadded: i32,
  scale: usize, shift: usize, out: usize, avg: usize,
): void {
  const pooledHeight = height >> 1;
  const pooledWidth = width >> 1;
  const positions = pooledHeight * pooledWidth;
  const inBytes = <usize>inPadded << 2;
  const outBytes = <usize>outPadded << 2;
  const quarter = f32x4.splat(0.25);
  for (let i = 0; i < pooledHeight; i++) {
    for (let j = 0; j < pooledWidth; j++) {
      const p = h + <usize>(2 * i * width + 2 * j) * inBytes;
      const q = p + <usize>width * inBytes;
      const a = avg + <usize>(i * pooledWidth + j) * inBytes;
      for (let k: usize = 0; k < inBytes; k += 16) {
        const sum = f32x4.add(f32x4.add(f32x4.add(v128.load(p + k), v128.load(p + inBytes + k)), v128.load(q + k)), v128.load(q + inBytes + k));
        v128.store(a + k, f32x4.mul(sum, quarter));
      }
    }
  }
  for (let k: usize = 0; k < outBytes; k += 16) {
    const w = kernel + k;
    for (let p = 0; p < positions; p += 2) {
      const pair = p + 1 < positions;
      const u = avg + <usize>p * inBytes;
      const v = pair ? u + inBytes : u;
      let a0 = f64x2.splat(0), a1 = a0, b0 = a0, b1 = a0;
      for (let c = 0; c < inChannels; c++) {
        const x = f64x2.splat(<f64>load<f32>(u + (<usize>c << 2)));
        const y = f64x2.splat(<f64>load<f32>(v + (<usize>c << 2)));
        const wc = v128.load(w + <usize>c * outBytes);
        const w0 = f64x2.promote_low_f32x4(wc);
        const w1 = f64x2.promote_low_f32x4(v128.shuffle<i32>(wc, wc, 2, 3, 2, 3));
        a0 = fma2(a0, x, w0);
        a1 = fma2(a1, x, w1);
        b0 = fma2(b0, y, w0);
        b1 = fma2(b1, y, w1);
      }
      const o = out + <usize>p * outBytes + k;
      addAffine(o, narrow4(a0, a1), scale + k, shift + k);
      if (pair) addAffine(o + outBytes, narrow4(b0, b1), scale + k, shift + k);
    }
  }
}

/**
 * ReActNet's downsampling shortcut, added into out: out[p][j] += avgpool2x2(h)[p][j % C], h
 * [height][width][inPadded] f32, out [pooled][outPadded], `outChannels` written; each average
 * as shortcutAdd's.
 */
export function shortcutTile(h: usize, height: i32, width: i32, inPadded: i32, inChannels: i32, outPadded: i32, outChannels: i32, out: usize): void {
  const pooledWidth = width >> 1;
  const inBytes = <usize>inPadded << 2;
  const outBytes = <usize>outPadded << 2;
  for (let i = 0; i < height >> 1; i++) {
    for (let j = 0; j < pooledWidth; j++) {
      const p = h + <usize>(2 * i * width + 2 * j) * inBytes;
      const q = p + <usize>width * inBytes;
      const o = out + <usize>(i * pooledWidth + j) * outBytes;
      if ((inChannels & 3) == 0 && (outChannels & 3) == 0) {
        for (let c = 0; c < inChannels; c += 4) {
          const k = <usize>c << 2;
          const sum = f32x4.add(f32x4.add(f32x4.add(v128.load(p + k), v128.load(p + inBytes + k)), v128.load(q + k)), v128.load(q + inBytes + k));
          const a = f32x4.mul(sum, f32x4.splat(0.25));
          for (let t = c; t < outChannels; t += inChannels) v128.store(o + (<usize>t << 2), f32x4.add(v128.load(o + (<usize>t << 2)), a));
        }
        continue;
      }
      for (let c = 0; c < inChannels; c++) {
        const k = <usize>c << 2;
        const a = (load<f32>(p + k) + load<f32>(p + inBytes + k) + load<f32>(q + k) + load<f32>(q + inBytes + k)) * 0.25;
        for (let t = c; t < outChannels; t += inChannels) store<f32>(o + (<usize>t << 2), load<f32>(o + (<usize>t << 2)) + a);
      }
    }
  }
}

/**
 * The stem: a real (3x3) convolution, 'same' zero padding, of the one-channel input x
 * [height][width] f32, its BatchNorm folded to scale and shift: h [position][padded] f32, of which
 * the first `groups` groups of 4 channels are written (the rest stay 0). Weights [tap = 3 * dy +
 * dx][padded] f32. A tap in the padding reads 0, as zero padding does; products and sums rounded
 * tap by tap, in the model's order at inference (QuantConv2D's tapConv).
 */
export function stemConv(x: usize, height: i32, width: i32, weights: usize, padded: i32, groups: i32, scale: usize, shift: usize, h: usize): void {
  const rowBytes = <usize>padded << 2;
  const groupBytes = <usize>groups << 4;
  const stride = <usize>width << 2;
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const at = x + (<usize>(i * width + j) << 2);
      const up = i > 0;
      const down = i < height - 1;
      const left = j > 0;
      const right = j < width - 1;
      const v0 = f32x4.splat(up && left ? load<f32>(at - stride - 4) : 0);
      const v1 = f32x4.splat(up ? load<f32>(at - stride) : 0);
      const v2 = f32x4.splat(up && right ? load<f32>(at - stride + 4) : 0);
      const v3 = f32x4.splat(left ? load<f32>(at - 4) : 0);
      const v4 = f32x4.splat(load<f32>(at));
      const v5 = f32x4.splat(right ? load<f32>(at + 4) : 0);
      const v6 = f32x4.splat(down && left ? load<f32>(at + stride - 4) : 0);
      const v7 = f32x4.splat(down ? load<f32>(at + stride) : 0);
      const v8 = f32x4.splat(down && right ? load<f32>(at + stride + 4) : 0);
      const o = h + <usize>(i * width + j) * rowBytes;
      for (let k: usize = 0; k < groupBytes; k += 16) {
        const w = weights + k;
        let s = f32x4.mul(v0, v128.load(w));
        s = f32x4.add(s, f32x4.mul(v1, v128.load(w + rowBytes)));
        s = f32x4.add(s, f32x4.mul(v2, v128.load(w + 2 * rowBytes)));
        s = f32x4.add(s, f32x4.mul(v3, v128.load(w + 3 * rowBytes)));
        s = f32x4.add(s, f32x4.mul(v4, v128.load(w + 4 * rowBytes)));
        s = f32x4.add(s, f32x4.mul(v5, v128.load(w + 5 * rowBytes)));
        s = f32x4.add(s, f32x4.mul(v6, v128.load(w + 6 * rowBytes)));
        s = f32x4.add(s, f32x4.mul(v7, v128.load(w + 7 * rowBytes)));
        s = f32x4.add(s, f32x4.mul(v8, v128.load(w + 8 * rowBytes)));
        v128.store(o + k, f32x4.add(f32x4.mul(s, v128.load(scale + k)), v128.load(shift + k)));
      }
    }
  }
}

/**
 * What a pooled exit head reads of h [height][width][padded] f32: per channel the max (into
 * `max`, f32 [padded]) and the sums of every grid cell (into `sums`, f64 [cellCount][padded]),
 * position (i, j) in cell cellRows[i] * gridColumns + cellColumns[j] (i32 arrays); with
 * cellCount 0, the max alone.
 */
export function poolStats(
  h: usize, height: i32, width: i32, padded: i32, max: usize, sums: usize, cellCount: i32, cellRows: usize, cellColumns: usize, gridColumns: i32,
): void {
  const rowBytes = <usize>padded << 2;
  for (let k: usize = 0; k < rowBytes; k += 16) v128.store(max + k, f32x4.splat(-Infinity));
  for (let k: usize = 0; k < <usize>cellCount * (rowBytes << 1); k += 16) v128.store(sums + k, f64x2.splat(0));
  for (let i = 0; i < height; i++) {
    for (let j = 0; j < width; j++) {
      const x = h + <usize>(i * width + j) * rowBytes;
      for (let k: usize = 0; k < rowBytes; k += 16) v128.store(max + k, f32x4.max(v128.load(max + k), v128.load(x + k)));
      if (cellCount == 0) continue;
      const cell = sums + <usize>(load<i32>(cellRows + (<usize>i << 2)) * gridColumns + load<i32>(cellColumns + (<usize>j << 2))) * (rowBytes << 1);
      for (let k: usize = 0; k < rowBytes; k += 16) {
        const v = v128.load(x + k);
        const s = cell + (k << 1);
        v128.store(s, f64x2.add(v128.load(s), f64x2.promote_low_f32x4(v)));
        v128.store(s, f64x2.add(v128.load(s, 16), f64x2.promote_low_f32x4(v128.shuffle<i32>(v, v, 2, 3, 2, 3))), 16);
      }
    }
  }
}

// Training an exit head (src/transfer/head-fit.ts): its dense layers forward and backward in f64.
// Every sum adds its terms in a plain loop's order (over inputs for an output, over rows for a
// weight's gradient), so a head trains to the same weights bit for bit as in scalar code; the
// vectors run over pairs of units, whose sums are independent.

/** One output of headDense, in scalar code: where a block of 4 rows and 4 units does not fit. */
@inline
function headDot(x: usize, inputs: i32, w: usize, units: i32, bias: f64): f64 {
  let s = bias;
  for (let i = 0; i < inputs; i++) s += load<f64>(x + (<usize>i << 3)) * load<f64>(w + (<usize>(i * units) << 3));
  return s;
}

/**
 * Both dense kernels' inner block: a 4 x 4 tile of f64 sums t[q][0..3] = init[q][0..3] + the sum
 * over k = 0, 1, ... of s(q, k) * v(k)[0..3], the 16 sums held in vectors while k runs. s(q, k) is
 * the f64 at s + q sLane + k sStep, v(k) the four at v + k vStep; init and out rows step by
 * initRow and outRow bytes.
 */
@inline
function tile4x4(init: usize, initRow: usize, count: i32, s: usize, sLane: usize, sStep: usize, v: usize, vStep: usize, out: usize, outRow: usize): void {
  let t00 = v128.load(init), t01 = v128.load(init, 16), t10 = v128.load(init + initRow), t11 = v128.load(init + initRow, 16);
  let t20 = v128.load(init + 2 * initRow), t21 = v128.load(init + 2 * initRow, 16), t30 = v128.load(init + 3 * initRow), t31 = v128.load(init + 3 * initRow, 16);
  for (let k = 0; k < count; k++) {
    const vk = v + <usize>k * vStep;
    const v0 = v128.load(vk);
    const v1 = v128.load(vk, 16);
    const sk = s + <usize>k * sStep;
    const a0 = f64x2.splat(load<f64>(sk));
    const a1 = f64x2.splat(load<f64>(sk + sLane));
    const a2 = f64x2.splat(load<f64>(sk + 2 * sLane));
    const a3 = f64x2.splat(load<f64>(sk + 3 * sLane));
    t00 = f64x2.add(t00, f64x2.mul(a0, v0));
    t01 = f64x2.add(t01, f64x2.mul(a0, v1));
    t10 = f64x2.add(t10, f64x2.mul(a1, v0));
    t11 = f64x2.add(t11, f64x2.mul(a1, v1));
    t20 = f64x2.add(t20, f64x2.mul(a2, v0));
    t21 = f64x2.add(t21, f64x2.mul(a2, v1));
    t30 = f64x2.add(t30, f64x2.mul(a3, v0));
    t31 = f64x2.add(t31, f64x2.mul(a3, v1));
  }
  v128.store(out, t00);
  v128.store(out, t01, 16);
  v128.store(out + outRow, t10);
  v128.store(out + outRow, t11, 16);
  v128.store(out + 2 * outRow, t20);
  v128.store(out + 2 * outRow, t21, 16);
  v128.store(out + 3 * outRow, t30);
  v128.store(out + 3 * outRow, t31, 16);
}

/**
 * y [rows][units] = x [rows][inputs] w [inputs][units] + b, all f64, each sum from its bias over
 * i = 0, 1, ...: four rows and four units a turn, each weight vector read once for the four rows.
 */
export function headDense(x: usize, rows: i32, inputs: i32, w: usize, b: usize, units: i32, y: usize): void {
  const xRow = <usize>inputs << 3;
  const wRow = <usize>units << 3;
  const blockUnits = units & ~3;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    const x0 = x + <usize>r * xRow;
    const y0 = y + <usize>r * wRow;
    for (let u = 0; u < blockUnits; u += 4) {
      const at = <usize>u << 3;
      tile4x4(b + at, 0, inputs, x0, xRow, 8, w + at, wRow, y0 + at, wRow);
    }
    for (let q = 0; q < 4; q++)
      for (let u = blockUnits; u < units; u++)
        store<f64>(y0 + <usize>q * wRow + (<usize>u << 3), headDot(x0 + <usize>q * xRow, inputs, w + (<usize>u << 3), units, load<f64>(b + (<usize>u << 3))));
  }
  for (; r < rows; r++)
    for (let u = 0; u < units; u++)
      store<f64>(y + <usize>r * wRow + (<usize>u << 3), headDot(x + <usize>r * xRow, inputs, w + (<usize>u << 3), units, load<f64>(b + (<usize>u << 3))));
}

/**
 * dw [inputs][units] += g [rows][units]^T x [rows][inputs], each weight's sum over rows r = 0, 1,
 * ...: four inputs and four units a turn.
 */
export function headDenseGrad(x: usize, rows: i32, inputs: i32, g: usize, units: i32, dw: usize): void {
  const xRow = <usize>inputs << 3;
  const gRow = <usize>units << 3;
  const blockInputs = inputs & ~3;
  const blockUnits = units & ~3;
  for (let i = 0; i < blockInputs; i += 4) {
    const d0 = dw + <usize>i * gRow;
    for (let u = 0; u < blockUnits; u += 4) {
      const at = <usize>u << 3;
      tile4x4(d0 + at, gRow, rows, x + (<usize>i << 3), 8, xRow, g + at, gRow, d0 + at, gRow);
    }
  }
  // the inputs and units past the blocks, one weight at a time
  for (let i = 0; i < inputs; i++)
    for (let u = i < blockInputs ? blockUnits : 0; u < units; u++) {
      const d = dw + <usize>i * gRow + (<usize>u << 3);
      let s = load<f64>(d);
      for (let r = 0; r < rows; r++) s += load<f64>(g + <usize>r * gRow + (<usize>u << 3)) * load<f64>(x + <usize>r * xRow + (<usize>i << 3));
      store<f64>(d, s);
    }
}

/**
 * AdamW's step on `count` f64 weights (head-fit.ts's Param.step says the math), then the gradient
 * back to 0: each value computed with the same operations in the same order as in scalar code.
 */
export function adamStep(value: usize, grad: usize, m: usize, v: usize, count: i32, decay: f64, corrected: f64, beta1: f64, beta2: f64, epsilon: f64): void {
  const b1 = f64x2.splat(beta1);
  const b2 = f64x2.splat(beta2);
  const c1 = f64x2.splat(1 - beta1);
  const c2 = f64x2.splat(1 - beta2);
  const d = f64x2.splat(decay);
  const c = f64x2.splat(corrected);
  const e = f64x2.splat(epsilon);
  const end = <usize>count << 3;
  let k: usize = 0;
  for (; k + 16 <= end; k += 16) {
    const g = v128.load(grad + k);
    const mk = f64x2.add(f64x2.mul(b1, v128.load(m + k)), f64x2.mul(c1, g));
    const vk = f64x2.add(f64x2.mul(b2, v128.load(v + k)), f64x2.mul(f64x2.mul(c2, g), g));
    v128.store(m + k, mk);
    v128.store(v + k, vk);
    v128.store(value + k, f64x2.sub(f64x2.mul(v128.load(value + k), d), f64x2.div(f64x2.mul(c, mk), f64x2.add(f64x2.sqrt(vk), e))));
    v128.store(grad + k, f64x2.splat(0));
  }
  for (; k < end; k += 8) {
    const g = load<f64>(grad + k);
    const mk = beta1 * load<f64>(m + k) + (1 - beta1) * g;
    const vk = beta2 * load<f64>(v + k) + (1 - beta2) * g * g;
    store<f64>(m + k, mk);
    store<f64>(v + k, vk);
    store<f64>(value + k, load<f64>(value + k) * decay - (corrected * mk) / (Math.sqrt(vk) + epsilon));
    store<f64>(grad + k, 0);
  }
}
