import { BeeError } from '../errors.js';

export type PcmFormat = 's16le' | 'f32le';

/**
 * Raw PCM bytes, as arecord, sox or ffmpeg pipe them, to mono float samples, chunk by chunk:
 * bytes of a sample frame split across chunks wait for the next one.
 */
export class PcmDecoder {
  private readonly frameBytes: number;
  private carry = new Uint8Array(0);

  constructor(
    readonly format: PcmFormat,
    readonly channels: number,
  ) {
    this.frameBytes = (format === 's16le' ? 2 : 4) * channels;
  }

  decode(chunk: Uint8Array): Float32Array {
    const bytes = this.carry.length ? concat(this.carry, chunk) : chunk;
    const frames = Math.floor(bytes.length / this.frameBytes);
    this.carry = bytes.slice(frames * this.frameBytes);
    const view = new DataView(bytes.buffer, bytes.byteOffset, frames * this.frameBytes);
    const out = new Float32Array(frames);
    const size = this.format === 's16le' ? 2 : 4;
    for (let f = 0; f < frames; f++) {
      let sum = 0;
      for (let c = 0; c < this.channels; c++) {
        const at = (f * this.channels + c) * size;
        // int16 / 32767, as bee reads WAV files (and the paper's pipeline); floats as a float WAV's:
        // divided before the sum, in float32
        if (this.format === 's16le') sum += view.getInt16(at, true) / 32767;
        else sum = Math.fround(sum + view.getFloat32(at, true) / this.channels);
      }
      out[f] = this.format === 's16le' ? sum / this.channels : sum;
    }
    if (this.format === 'f32le') {
      if (!out.every(Number.isFinite))
        throw new BeeError('stdin holds NaN or infinite float samples', { hint: 'is --format right? (arecord -f S16_LE pipes s16le)' });
      // as a float WAV: finite samples beyond +/-1 clipped to the range integer PCM holds
      for (let f = 0; f < frames; f++) out[f] = Math.max(-1, Math.min(1, out[f]));
    }
    return out;
  }

  /** Bytes left over at the end of the stream: a partial sample frame means the format or channels are wrong, or the stream was cut. */
  get strayBytes(): number {
    return this.carry.length;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
