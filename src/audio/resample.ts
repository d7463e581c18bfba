/**
 * Band-limited resampling by windowed-sinc interpolation (Kaiser window), polyphase: the filter for
 * each of the L output phases of an L/M rate change is computed once per rate pair and cached.
 * The cutoff sits just below the lower Nyquist frequency, so downsampling does not alias and
 * upsampling does not image.
 */

const ZERO_CROSSINGS = 24; // filter half-length, in zero crossings of the sinc
const ROLLOFF = 0.94; // cutoff as a fraction of the lower Nyquist frequency
const KAISER_BETA = 8.6; // ~-90 dB stopband

interface Polyphase {
  up: number; // L
  down: number; // M
  halfTaps: number;
  /** rows of taps: L, or fewer where L rows would not fit in MAX_TAPS (then output positions are rounded to the nearest row) */
  phases: number;
  /** phase p's taps for input offsets -halfTaps+1 .. halfTaps, p = 0..phases-1 */
  taps: Float64Array;
}

/**
 * The most taps a filter table holds (16 MiB of float64). An awkward rate pair (767,999 Hz to
 * 16 kHz: L = 16,000 phases of 2,452 taps, 300 MB) gets fewer rows instead, and each output sample
 * the row nearest its position: a timing error under 1/(2 x 800) of an input sample.
 */
const MAX_TAPS = 1 << 21;

const cache = new Map<string, Polyphase>();

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function polyphase(fromRate: number, toRate: number): Polyphase {
  const key = `${fromRate}:${toRate}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const g = gcd(fromRate, toRate);
  const up = toRate / g;
  const down = fromRate / g;
  // Cutoff in cycles per input sample; a lower cutoff widens the filter in input samples.
  const cutoff = 0.5 * ROLLOFF * Math.min(1, toRate / fromRate);
  const halfTaps = Math.ceil(ZERO_CROSSINGS / (2 * cutoff));
  const width = 2 * halfTaps;
  const phases = Math.min(up, Math.max(1, Math.floor(MAX_TAPS / width)));
  const taps = new Float64Array(phases * width);
  const i0Beta = besselI0(KAISER_BETA);
  for (let p = 0; p < phases; p++) {
    const frac = p / phases; // output position lies frac input samples after the base sample
    let sum = 0;
    for (let j = 0; j < width; j++) {
      const t = j - halfTaps + 1 - frac; // distance (input samples) from the output position
      const r = t / halfTaps;
      const window = Math.abs(r) >= 1 ? 0 : besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / i0Beta;
      const x = 2 * cutoff * t;
      const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
      const h = 2 * cutoff * sinc * window;
      taps[p * width + j] = h;
      sum += h;
    }
    // Unity gain at DC for every phase, so a constant signal stays constant.
    for (let j = 0; j < width; j++) taps[p * width + j] /= sum;
  }
  const result = { up, down, halfTaps, phases, taps };
  if (cache.size > 16) cache.clear();
  cache.set(key, result);
  return result;
}

/** Where output k's taps start in the input, and its row of taps. */
function locate({ up, down, halfTaps, phases }: Polyphase, k: number): { first: number; row: number } {
  const pos = k * down; // output k sits at input position pos / up
  let base = Math.floor(pos / up);
  let phase = pos - base * up;
  if (phases < up) {
    phase = Math.round((phase * phases) / up);
    if (phase === phases) [base, phase] = [base + 1, 0];
  }
  return { first: base - halfTaps + 1, row: phase * 2 * halfTaps };
}

/** Resamples a mono signal; output length is round(n * toRate / fromRate). */
export function resample(samples: Float32Array, fromRate: number, toRate: number): Float32Array {
  if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
    throw new RangeError(`sample rates must be positive integers, got ${fromRate} -> ${toRate}`);
  }
  if (fromRate === toRate) return samples;
  const filter = polyphase(fromRate, toRate);
  const { taps } = filter;
  const width = 2 * filter.halfTaps;
  const n = samples.length;
  const out = new Float32Array(Math.round((n * toRate) / fromRate));
  for (let k = 0; k < out.length; k++) {
    const { first, row } = locate(filter, k);
    let acc = 0;
    const jStart = Math.max(0, -first);
    const jEnd = Math.min(width, n - first);
    for (let j = jStart; j < jEnd; j++) acc += samples[first + j] * taps[row + j];
    out[k] = acc;
  }
  return out;
}

/**
 * resample() a block at a time: pushed blocks in, the output samples they complete out, the
 * same values as resampling the whole signal at once (the same taps, summed in the same order).
 */
export class StreamingResampler {
  private readonly filter: Polyphase;
  /** input samples from `start` on that outputs still need */
  private held = new Float32Array(0);
  private start = 0;
  private received = 0;
  private produced = 0;

  constructor(
    readonly fromRate: number,
    readonly toRate: number,
  ) {
    if (!Number.isInteger(fromRate) || !Number.isInteger(toRate) || fromRate <= 0 || toRate <= 0) {
      throw new RangeError(`sample rates must be positive integers, got ${fromRate} -> ${toRate}`);
    }
    this.filter = polyphase(fromRate, toRate);
  }

  push(samples: Float32Array): Float32Array {
    if (this.fromRate === this.toRate) return samples;
    const joined = new Float32Array(this.held.length + samples.length);
    joined.set(this.held);
    joined.set(samples, this.held.length);
    this.held = joined;
    this.received += samples.length;
    return this.emit(false);
  }

  /** The last outputs, with zeros past the end of the input (as resample()). */
  end(): Float32Array {
    if (this.fromRate === this.toRate) return new Float32Array(0);
    return this.emit(true);
  }

  private emit(atEnd: boolean): Float32Array {
    const { taps } = this.filter;
    const width = 2 * this.filter.halfTaps;
    const total = Math.round((this.received * this.toRate) / this.fromRate);
    const out: number[] = [];
    for (let k = this.produced; k < total; k++) {
      const { first, row } = locate(this.filter, k);
      if (!atEnd && first + width > this.received) break;
      let acc = 0;
      const jStart = Math.max(0, -first);
      const jEnd = Math.min(width, this.received - first);
      for (let j = jStart; j < jEnd; j++) acc += this.held[first + j - this.start] * taps[row + j];
      out.push(acc);
      this.produced = k + 1;
    }
    // keep what the next output's window starts at
    const nextFirst = locate(this.filter, this.produced).first;
    const drop = Math.max(0, Math.min(this.held.length, nextFirst - this.start));
    if (drop > 0) {
      this.held = this.held.slice(drop);
      this.start += drop;
    }
    return Float32Array.from(out);
  }
}
