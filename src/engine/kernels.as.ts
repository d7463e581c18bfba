// AssemblyScript, compiled to dist/engine/kernels.wasm by `npm run build` (its build:kernels script).
//
// The binary layers of the network on bit-packed tensors. Channel c of a position lives in bit c % 32
// of its word c / 32; a set bit is +1, a clear bit -1; the bits past the last channel are 0 in
// activations and weights alike, so they never count as a mismatch. A ±1 dot product over n
// channels is n - 2 * popcount(x XOR w). Output channels go four at a time through one v128 (one
// 32-bit lane each): weights are laid out [group of 4][tap][input word] as v128s of four lanes,
// thresholds and flips as one v128 per group. The folded BatchNorm + sign of a binary layer is
// bit = (dot >= T) XOR flip; as dot = n - 2 * popcount, that is (popcount > (n - T) / 2) XOR NOT flip:
// the kernels compare popcounts with limits and flips the JS side derives from T, n and flip.
// The JS side owns the memory layout and passes byte offsets.

/** The engine's one allocation: everything it needs, reserved once at load. */
export function reserve(bytes: usize): usize {
  return heap.alloc(bytes);
}

// Each byte of an i8x16 popcount is at most 8: 31 of them fit a byte before it must be widened.
const BYTE_SUMS: i32 = 31;

/** Sums of four bytes into each 32-bit lane. */
@inline
function widen(bytes: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(bytes));
}

// Output channels go sixteen at a time (a quad: four groups of four) through the popcount loops:
// one input word, broadcast once, meets four groups' weights, so the loads and the loop overhead
// are shared. The JS side pads the group count to a multiple of four (padded lanes never fire).

// The popcounts of a quad, between the loops and the thresholds.
let pc0: v128, pc1: v128, pc2: v128, pc3: v128;

/**
 * pc0..pc3 = popcounts of (x XOR w) over a run of `words` input words for the quad whose first
 * group's weights start at w (the next groups' at w + groupBytes, ...).
 */
@inline
function quadMismatches(x: usize, w: usize, groupBytes: usize, words: i32): void {
  pc0 = pc1 = pc2 = pc3 = i32x4.splat(0);
  for (let k0 = 0; k0 < words; k0 += BYTE_SUMS) {
    let b0 = i8x16.splat(0), b1 = i8x16.splat(0), b2 = i8x16.splat(0), b3 = i8x16.splat(0);
    const end = min(words, k0 + BYTE_SUMS);
    let k = k0;
    // Two words a turn: half the loop overhead on the short runs of the early blocks.
    for (; k + 1 < end; k += 2) {
      const xa = v128.load32_splat(x + (<usize>k << 2));
      const xb = v128.load32_splat(x + (<usize>k << 2), 4);
      const wk = w + (<usize>k << 4);
      b0 = i8x16.add(b0, i8x16.add(i8x16.popcnt(v128.xor(xa, v128.load(wk))), i8x16.popcnt(v128.xor(xb, v128.load(wk, 16)))));
      b1 = i8x16.add(b1, i8x16.add(i8x16.popcnt(v128.xor(xa, v128.load(wk + groupBytes))), i8x16.popcnt(v128.xor(xb, v128.load(wk + groupBytes, 16)))));
      b2 = i8x16.add(b2, i8x16.add(i8x16.popcnt(v128.xor(xa, v128.load(wk + 2 * groupBytes))), i8x16.popcnt(v128.xor(xb, v128.load(wk + 2 * groupBytes, 16)))));
      b3 = i8x16.add(b3, i8x16.add(i8x16.popcnt(v128.xor(xa, v128.load(wk + 3 * groupBytes))), i8x16.popcnt(v128.xor(xb, v128.load(wk + 3 * groupBytes, 16)))));
    }
    if (k < end) {
      const xk = v128.load32_splat(x + (<usize>k << 2));
      const wk = w + (<usize>k << 4);
      b0 = i8x16.add(b0, i8x16.popcnt(v128.xor(xk, v128.load(wk))));
      b1 = i8x16.add(b1, i8x16.popcnt(v128.xor(xk, v128.load(wk + groupBytes))));
      b2 = i8x16.add(b2, i8x16.popcnt(v128.xor(xk, v128.load(wk + 2 * groupBytes))));
      b3 = i8x16.add(b3, i8x16.popcnt(v128.xor(xk, v128.load(wk + 3 * groupBytes))));
    }
    pc0 = i32x4.add(pc0, widen(b0));
    pc1 = i32x4.add(pc1, widen(b1));
    pc2 = i32x4.add(pc2, widen(b2));
    pc3 = i32x4.add(pc3, widen(b3));
  }
}

/** A group's bits as a mask: (popcount > limit) XOR flip, lane by lane. */
@inline
function overLimit(pc: v128, limit: usize, flip: usize): v128 {
  return v128.xor(i32x4.gt_s(pc, v128.load(limit)), v128.load(flip));
}

/** Four groups' masks (all-ones or zero lanes) as sixteen bits: they narrow to bytes, then one bitmask. */
@inline
function quadBits(m0: v128, m1: v128, m2: v128, m3: v128): u32 {
  return <u32>i8x16.bitmask(i8x16.narrow_i16x8_s(i16x8.narrow_i32x4_s(m0, m1), i16x8.narrow_i32x4_s(m2, m3)));
}

/** The quad's sixteen bits from its popcounts and its four groups' limits and flips. */
@inline
function quadOverLimit(p0: v128, p1: v128, p2: v128, p3: v128, limits: usize, flips: usize): u32 {
  return quadBits(overLimit(p0, limits, flips), overLimit(p1, limits + 16, flips + 16), overLimit(p2, limits + 32, flips + 32), overLimit(p3, limits + 48, flips + 48));
}

/**
 * A group's bits in the first block: y = w0 * before + w1 * centre + w2 * after, summed in
 * TensorFlow's order (another order can round differently), then (y >= threshold) XOR flip.
 */
@inline
function realSign(before: v128, centre: v128, after: v128, w: usize, threshold: usize, flip: usize): v128 {
  let y = f32x4.mul(before, v128.load(w));
  y = f32x4.add(y, f32x4.mul(centre, v128.load(w, 16)));
  y = f32x4.add(y, f32x4.mul(after, v128.load(w, 32)));
  return v128.xor(f32x4.ge(y, v128.load(threshold)), v128.load(flip));
}

/**
 * The first block's (1x3) (along = 0: taps along the width) or (3x1) (along = 1: along the height)
 * convolution, 'same' zero padding, of the one-channel real-valued input with ±1 kernels, then
 * BatchNorm + sign folded into a float threshold. weights: [group][tap] f32x4 of ±1.
 */
export function realConvSign(
  x: usize, height: i32, width: i32, along: i32, weights: usize, groups: i32,
  thresholds: usize, flips: usize, out: usize, outStride: i32, outOffset: i32,
): void {
  const step = along == 0 ? 1 : width;
  for (let h = 0; h < height; h++) {
    for (let w = 0; w < width; w++) {
      const pos = h * width + w;
      const here = x + (<usize>pos << 2);
      const hasBefore = along == 0 ? w > 0 : h > 0;
      const hasAfter = along == 0 ? w < width - 1 : h < height - 1;
      const before = f32x4.splat(hasBefore ? load<f32>(here - (<usize>step << 2)) : 0);
      const centre = f32x4.splat(load<f32>(here));
      const after = f32x4.splat(hasAfter ? load<f32>(here + (<usize>step << 2)) : 0);
      const o = out + (<usize>(pos * outStride + outOffset) << 2);
      for (let q = 0; q < groups; q += 8) {
        let word: u32 = 0;
        for (let g = q; g < q + 8 && g < groups; g += 4) {
          const wg = weights + <usize>g * 48;
          const t = thresholds + (<usize>g << 4);
          const f = flips + (<usize>g << 4);
          const bits = quadBits(
            realSign(before, centre, after, wg, t, f),
            realSign(before, centre, after, wg + 48, t + 16, f + 16),
            realSign(before, centre, after, wg + 96, t + 32, f + 32),
            realSign(before, centre, after, wg + 144, t + 48, f + 48),
          );
          word |= bits << ((<u32>g & 7) << 2);
        }
        store<u32>(o + (<usize>q >> 1), word);
      }
    }
  }
}

/**
 * A binary (1x3) or (3x1) convolution, 'same' zero padding, then BatchNorm + sign. The input is
 * laid out with the taps' axis innermost, [outer][inner][inWords], so that a position's three taps
 * are one run of 3 * inWords words: row-major for the (1x3) (along = 0), column-major for the
 * (3x1) (along = 1). weights: [group][3 taps][inWords] v128. A tap in the padding contributes 0,
 * so a border position's dot product runs over fewer channels: the popcount limits are
 * [3 - taps][group] v128. The output is row-major: [position][outStride], from word outOffset.
 */
export function binConvSign(
  x: usize, outer: i32, inner: i32, inWords: i32, along: i32, weights: usize, groups: i32,
  limits: usize, flips: usize, out: usize, outStride: i32, outOffset: i32,
): void {
  const groupBytes = <usize>(3 * inWords) << 4;
  for (let a = 0; a < outer; a++) {
    for (let b = 0; b < inner; b++) {
      const first = b > 0 ? 0 : 1;
      const taps = (b < inner - 1 ? 3 : 2) - first;
      const run = x + (<usize>((a * inner + b + first - 1) * inWords) << 2);
      const runWords = taps * inWords;
      const tapWeights = weights + (<usize>(first * inWords) << 4);
      const tapLimits = limits + (<usize>((3 - taps) * groups) << 4);
      const pos = along == 0 ? a * inner + b : b * outer + a;
      const o = out + (<usize>(pos * outStride + outOffset) << 2);
      for (let q = 0; q < groups; q += 8) {
        let word: u32 = 0;
        for (let g = q; g < q + 8 && g < groups; g += 4) {
          quadMismatches(run, tapWeights + <usize>g * groupBytes, groupBytes, runWords);
          const gt = <usize>g << 4;
          word |= quadOverLimit(pc0, pc1, pc2, pc3, tapLimits + gt, flips + gt) << ((<u32>g & 7) << 2);
        }
        store<u32>(o + (<usize>q >> 1), word);
      }
    }
  }
}

/**
 * The block's binary (1x1) convolution, 2x2 max-pool (valid: an odd last row or column is dropped),
 * then BatchNorm + sign: the max of four dot products is the min of their popcounts. Writes the
 * result row-major to `out` and column-major to `outT` (the next block's (3x1) reads that). Also
 * keeps, per channel, the smallest and largest pooled popcount, from which the exit head's global
 * max-pool of the BatchNorm output follows. stats: [groups] v128 min, then [groups] max.
 */
export function pointConvPoolSign(
  x: usize, height: i32, width: i32, inWords: i32, weights: usize, groups: i32,
  limits: usize, flips: usize, out: usize, outT: usize, outWords: i32, stats: usize,
): void {
  const pooledHeight = height >> 1;
  const pooledWidth = width >> 1;
  const maxStats = stats + (<usize>groups << 4);
  for (let g = 0; g < groups; g++) {
    v128.store(stats + (<usize>g << 4), i32x4.splat(i32.MAX_VALUE));
    v128.store(maxStats + (<usize>g << 4), i32x4.splat(0));
  }
  const right = <usize>inWords << 2;
  const down = <usize>(width * inWords) << 2;
  const groupBytes = <usize>inWords << 4;
  for (let i = 0; i < pooledHeight; i++) {
    for (let j = 0; j < pooledWidth; j++) {
      const p = x + (<usize>((2 * i * width + 2 * j) * inWords) << 2);
      const o = out + (<usize>((i * pooledWidth + j) * outWords) << 2);
      const oT = outT + (<usize>((j * pooledHeight + i) * outWords) << 2);
      for (let q = 0; q < groups; q += 8) {
        let word: u32 = 0;
        for (let g = q; g < q + 8 && g < groups; g += 4) {
          const wg = weights + <usize>g * groupBytes;
          let min0 = i32x4.splat(i32.MAX_VALUE), min1 = min0, min2 = min0, min3 = min0;
          for (let d = 0; d < 4; d++) {
            quadMismatches(p + (d & 1 ? right : 0) + (d & 2 ? down : 0), wg, groupBytes, inWords);
            min0 = i32x4.min_u(min0, pc0);
            min1 = i32x4.min_u(min1, pc1);
            min2 = i32x4.min_u(min2, pc2);
            min3 = i32x4.min_u(min3, pc3);
          }
          const gt = <usize>g << 4;
          trackStats(stats + gt, maxStats + gt, min0, min1, min2, min3);
          word |= quadOverLimit(min0, min1, min2, min3, limits + gt, flips + gt) << ((<u32>g & 7) << 2);
        }
        store<u32>(o + (<usize>q >> 1), word);
        store<u32>(oT + (<usize>q >> 1), word);
      }
    }
  }
}

/** Folds a quad's pooled popcounts into the per-channel min (at mins) and max (at maxes). */
@inline
function trackStats(mins: usize, maxes: usize, p0: v128, p1: v128, p2: v128, p3: v128): void {
  v128.store(mins, i32x4.min_u(v128.load(mins), p0));
  v128.store(mins, i32x4.min_u(v128.load(mins, 16), p1), 16);
  v128.store(mins, i32x4.min_u(v128.load(mins, 32), p2), 32);
  v128.store(mins, i32x4.min_u(v128.load(mins, 48), p3), 48);
  v128.store(maxes, i32x4.max_u(v128.load(maxes), p0));
  v128.store(maxes, i32x4.max_u(v128.load(maxes, 16), p1), 16);
  v128.store(maxes, i32x4.max_u(v128.load(maxes, 32), p2), 32);
  v128.store(maxes, i32x4.max_u(v128.load(maxes, 48), p3), 48);
}
