import { Layout, WasmModule } from '../util/wasm-module.js';
import type { MelFilterbank } from './mel.js';
import { fftPasses } from './rfft32.js';

/** The exports of spectrum.as.ts: addresses and sizes in, results written to memory. */
interface SpectrumExports {
  memory: WebAssembly.Memory;
  reserve(bytes: number): number;
  melSums(
    samples: number,
    frames: number,
    frameStep: number,
    frameLength: number,
    window: number,
    n: number,
    passes: number,
    plan: number,
    a: number,
    b: number,
    magnitude: number,
    bands: number,
    start: number,
    count: number,
    weights: number,
    out: number,
  ): void;
  spectrum(n: number, passes: number, plan: number, a: number, b: number, magnitude: number): void;
}

// Built from src/features/spectrum.as.ts; the same path from src/features (tests) and dist/features.
const SPECTRUM = new WasmModule<SpectrumExports>(new URL('../../dist/features/spectrum.wasm', import.meta.url), "the log-mel features' arithmetic");

/** Where there is no file system (a web page): the module, compiled from a fetch of spectrum.wasm. */
export function useSpectrumModule(module: WebAssembly.Module): void {
  SPECTRUM.use(module);
}

/**
 * A window, an n-point real FFT and a mel filterbank in one instance of spectrum.wasm: the
 * arithmetic of log-mel features (all but the log), for up to `maxFrames` frames a call.
 */
export class MelSpectrum {
  private readonly wasm: SpectrumExports;
  private readonly at: Record<'samples' | 'window' | 'plan' | 'a' | 'b' | 'magnitude' | 'start' | 'count' | 'weights' | 'out', number>;
  private readonly frameLength: number;
  private readonly passCount: number;
  private readonly bands: number;

  /** window: f32 values (its length is the frame length, at most n); frameStep: samples between frames */
  constructor(
    window: ArrayLike<number>,
    readonly n: number,
    mel: MelFilterbank,
    readonly frameStep: number,
    readonly maxFrames: number,
  ) {
    const passes = fftPasses(n);
    if (window.length > n) throw new RangeError(`frame length ${window.length} exceeds FFT length ${n}`);
    this.frameLength = window.length;
    this.passCount = passes.length;
    this.bands = mel.start.length;
    const maxSamples = (maxFrames - 1) * frameStep + window.length;
    const weights = mel.weights.reduce((sum, w) => sum + w.length, 0);
    const layout = (l: Layout) => ({
      samples: l.take(4 * maxSamples),
      window: l.take(4 * window.length),
      plan: l.take(16 * passes.length),
      twiddles: passes.map((p) => l.take(4 * p.tw.length)),
      a: l.take(4 * n),
      b: l.take(4 * n),
      magnitude: l.take(8 * (n / 2 + 1)),
      start: l.take(4 * this.bands),
      count: l.take(4 * this.bands),
      weights: l.take(8 * weights),
      out: l.take(8 * maxFrames * this.bands),
    });
    const sizing = new Layout();
    layout(sizing);
    this.wasm = SPECTRUM.instantiate();
    const at = layout(new Layout(this.wasm.reserve(sizing.bytes)));
    this.at = at;
    const { buffer } = this.wasm.memory;
    new Float32Array(buffer, at.window, window.length).set(window);
    const plan = new Int32Array(buffer, at.plan, 4 * passes.length);
    passes.forEach((p, k) => {
      plan.set([p.radix, p.l1, p.ido, at.twiddles[k]], 4 * k);
      new Float32Array(buffer, at.twiddles[k], p.tw.length).set(p.tw);
    });
    new Int32Array(buffer, at.start, this.bands).set(mel.start);
    new Int32Array(buffer, at.count, this.bands).set(mel.weights.map((w) => w.length));
    let offset = at.weights;
    for (const w of mel.weights) {
      new Float64Array(buffer, offset, w.length).set(w);
      offset += 8 * w.length;
    }
  }

  /**
   * The mel bands' sums of the magnitudes of `frames` windowed frames of `samples` (frame f from
   * sample f * frameStep), [frames][bands]: a view of the module's memory, valid until the next call.
   */
  sums(samples: Float32Array, frames: number): Float64Array {
    if (frames > this.maxFrames) throw new RangeError(`${frames} frames asked of a spectrum planned for ${this.maxFrames}`);
    const length = (frames - 1) * this.frameStep + this.frameLength;
    if (samples.length < length) throw new RangeError(`${frames} frames need ${length} samples, got ${samples.length}`);
    const { buffer } = this.wasm.memory;
    const at = this.at;
    new Float32Array(buffer, at.samples, length).set(samples.subarray(0, length));
    this.wasm.melSums(
      at.samples,
      frames,
      this.frameStep,
      this.frameLength,
      at.window,
      this.n,
      this.passCount,
      at.plan,
      at.a,
      at.b,
      at.magnitude,
      this.bands,
      at.start,
      at.count,
      at.weights,
      at.out,
    );
    return new Float64Array(buffer, at.out, frames * this.bands);
  }

  /**
   * |X_k|, k = 0..n/2, of a real input (float32 values, zero-padded to n) as float32 `tf.abs` of
   * the complex64 spectrum rounds them, without window or bands: a view, valid until the next call.
   */
  magnitudes(input: ArrayLike<number>): Float64Array {
    const { buffer } = this.wasm.memory;
    const a = new Float32Array(buffer, this.at.a, this.n).fill(0);
    a.set(input);
    this.wasm.spectrum(this.n, this.passCount, this.at.plan, this.at.a, this.at.b, this.at.magnitude);
    return new Float64Array(buffer, this.at.magnitude, this.n / 2 + 1);
  }
}
