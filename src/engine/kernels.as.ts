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

/** Popcounts of (x XOR w) over `words` (at most BYTE_SUMS) words, added to `bytes` byte by byte. */
@inline
function addMismatchBytes(bytes: v128, x: usize, w: usize, words: i32): v128 {
  for (let k = 0; k < words; k++) {
    bytes = i8x16.add(bytes, i8x16.popcnt(v128.xor(v128.load32_splat(x + (<usize>k << 2)), v128.load(w + (<usize>k << 4)))));
  }
  return bytes;
}

/** Popcount of (x XOR w) over `words` words for four output channels: x is a run of input words, w the group's weights. */
@inline
function mismatches(x: usize, w: usize, words: i32): v128 {
  if (words <= BYTE_SUMS) return widen(addMismatchBytes(i8x16.splat(0), x, w, words));
  let total = i32x4.splat(0);
  for (let k = 0; k < words; k += BYTE_SUMS) {
    total = i32x4.add(total, widen(addMismatchBytes(i8x16.splat(0), x + (<usize>k << 2), w + (<usize>k << 4), min(words - k, BYTE_SUMS))));
  }
  return total;
}

/** Four channels' bits (a v128 mask) in their place in a 32-bit word: group g holds bits 4(g % 8) .. 4(g % 8) + 3. */
@inline
function nibble(mask: v128, g: i32): u32 {
  return (<u32>i32x4.bitmask(mask)) << ((<u32>g & 7) << 2);
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
        const end = min(q + 8, groups);
        for (let g = q; g < end; g++) {
          const wg = weights + <usize>g * 48;
          // In TensorFlow's order: tap 0, then 1, then 2 (a different order can round differently).
          let y = f32x4.mul(before, v128.load(wg));
          y = f32x4.add(y, f32x4.mul(centre, v128.load(wg, 16)));
          y = f32x4.add(y, f32x4.mul(after, v128.load(wg, 32)));
          const gt = <usize>g << 4;
          word |= nibble(v128.xor(f32x4.ge(y, v128.load(thresholds + gt)), v128.load(flips + gt)), g);
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
      const tapWeights = <usize>(first * inWords) << 4;
      const groupLimits = limits + (<usize>((3 - taps) * groups) << 4);
      const pos = along == 0 ? a * inner + b : b * outer + a;
      const o = out + (<usize>(pos * outStride + outOffset) << 2);
      for (let q = 0; q < groups; q += 8) {
        let word: u32 = 0;
        const end = min(q + 8, groups);
        for (let g = q; g < end; g++) {
          const pc = mismatches(run, weights + <usize>g * groupBytes + tapWeights, runWords);
          const gt = <usize>g << 4;
          word |= nibble(v128.xor(i32x4.gt_s(pc, v128.load(groupLimits + gt)), v128.load(flips + gt)), g);
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
        const end = min(q + 8, groups);
        for (let g = q; g < end; g++) {
          const wg = weights + <usize>g * groupBytes;
          const top = i32x4.min_u(mismatches(p, wg, inWords), mismatches(p + right, wg, inWords));
          const pc = i32x4.min_u(top, i32x4.min_u(mismatches(p + down, wg, inWords), mismatches(p + down + right, wg, inWords)));
          const gt = <usize>g << 4;
          v128.store(stats + gt, i32x4.min_u(v128.load(stats + gt), pc));
          v128.store(maxStats + gt, i32x4.max_u(v128.load(maxStats + gt), pc));
          word |= nibble(v128.xor(i32x4.gt_s(pc, v128.load(limits + gt)), v128.load(flips + gt)), g);
        }
        store<u32>(o + (<usize>q >> 1), word);
        store<u32>(oT + (<usize>q >> 1), word);
      }
    }
  }
}
