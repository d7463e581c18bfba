import wavDecoder from 'wav-decoder';
import { BeeError } from '../errors.js';
import { readRegularFile } from '../util/read-file.js';

export interface Audio {
  sampleRate: number;
  /** Mono samples, full scale = 1 (int16 / 32767, as the paper's pipeline). */
  samples: Float32Array;
}

interface WavFormat {
  formatTag: number;
  channels: number;
  sampleRate: number;
  bitsPerSample: number;
  blockAlign: number;
}

const PCM = 1;
const FLOAT = 3;
const EXTENSIBLE = 0xfffe;

/** The largest WAV file bee reads whole (about 4.6 hours of 16 kHz 16-bit mono). */
export const MAX_WAV_BYTES = 512 * 1024 * 1024;

interface Layout {
  format: WavFormat;
  /** where the samples start, and how many whole frames the data chunk holds */
  dataOffset: number;
  frames: number;
}

/**
 * The one WAV reader: walks the RIFF chunks (odd-sized ones are padded to an even size, as RIFF
 * says; LIST, bext and any other chunk is skipped) and checks everything wav-decoder takes on
 * trust, so that a corrupt or truncated file is refused with a reason instead of read past its
 * end or decoded as garbage. Probe and decode both read the file through it.
 */
function layout(bytes: Uint8Array): Layout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new BeeError('not a WAV file (no RIFF/WAVE header)');
  }
  let format: WavFormat | undefined;
  for (let at = 12; ; ) {
    if (at + 8 > bytes.length) throw new BeeError(format ? 'truncated: no data chunk' : 'truncated: no fmt chunk');
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.length) throw new BeeError('corrupt fmt chunk');
      format = {
        formatTag: view.getUint16(body, true),
        channels: view.getUint16(body + 2, true),
        sampleRate: view.getUint32(body + 4, true),
        blockAlign: view.getUint16(body + 12, true),
        bitsPerSample: view.getUint16(body + 14, true),
      };
      if (format.formatTag === EXTENSIBLE) {
        if (size < 40) throw new BeeError('corrupt WAVE_FORMAT_EXTENSIBLE header');
        format.formatTag = view.getUint16(body + 24, true); // the sub-format GUID starts with the tag
      }
      check(format);
    } else if (id === 'data') {
      if (!format) throw new BeeError('corrupt: data chunk before fmt chunk');
      // Writers that stream set the size to 0 or 0xFFFFFFFF: the samples run to the end of the file.
      // (A 0 followed by well-formed chunks to the end is a truly empty data chunk.)
      const streamed = size === 0xffffffff || (size === 0 && !chunksToEnd(bytes, view, body));
      if (!streamed && body + size > bytes.length) {
        throw new BeeError(`truncated: data chunk declares ${size} bytes, file holds ${bytes.length - body}`);
      }
      const dataBytes = streamed ? bytes.length - body : size;
      return { format, dataOffset: body, frames: Math.floor(dataBytes / format.blockAlign) };
    }
    at = body + size + (size & 1);
  }
}

/** Whether well-formed chunks (a printable id, a size that fits, padded) run from `at` to the end. */
function chunksToEnd(bytes: Uint8Array, view: DataView, at: number): boolean {
  if (at >= bytes.length) return false;
  while (at < bytes.length) {
    if (at + 8 > bytes.length || !bytes.subarray(at, at + 4).every((c) => c >= 0x20 && c < 0x7f)) return false;
    const size = view.getUint32(at + 4, true);
    at += 8 + size + (size & 1);
  }
  return at === bytes.length || at === bytes.length + 1; // a last odd chunk may lack its pad byte
}

function check(format: WavFormat): void {
  const { formatTag, channels, sampleRate, bitsPerSample, blockAlign } = format;
  const supported = (formatTag === PCM && [8, 16, 24, 32].includes(bitsPerSample)) || (formatTag === FLOAT && bitsPerSample === 32);
  if (!supported) {
    const kind = formatTag === PCM ? 'PCM' : formatTag === FLOAT ? 'float' : `format 0x${formatTag.toString(16)}`;
    throw new BeeError(`unsupported encoding: ${kind} ${bitsPerSample}-bit (PCM 8/16/24/32-bit or 32-bit float)`);
  }
  if (channels < 1 || sampleRate < MIN_RATE || sampleRate > MAX_RATE) {
    throw new BeeError(`unsupported fmt chunk: ${channels} channels at ${sampleRate} Hz (1 or more channels, ${MIN_RATE}-${MAX_RATE} Hz)`);
  }
  if (blockAlign !== (channels * bitsPerSample) / 8) throw new BeeError(`corrupt fmt chunk: block size ${blockAlign}`);
}

/** The sample rates bee reads. */
export const MIN_RATE = 1000;
export const MAX_RATE = 768000;

/**
 * wav-decoder's symmetric mode gives int / 2^(bits-1) (8-bit: (u - 127.5) / 127.5); rescale so that
 * integer formats read int / (2^(bits-1) - 1), the paper's int16 / 32767.
 */
function intScale(x: number, format: WavFormat): number {
  if (format.bitsPerSample === 8) return (x * 127.5 - 0.5) / 127;
  const half = 2 ** (format.bitsPerSample - 1);
  return (x * half) / (half - 1);
}

export interface WavInfo {
  sampleRate: number;
  channels: number;
  bitsPerSample: number;
  encoding: 'pcm' | 'float';
  frames: number;
  seconds: number;
}

/** A float file's NaN or infinite sample, refused by probe and decode alike. */
function refuseNonFinite({ format, dataOffset, frames }: Layout, bytes: Uint8Array): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset + dataOffset, frames * format.blockAlign);
  for (let at = 0; at < view.byteLength; at += 4) {
    const x = view.getFloat32(at, true);
    if (!Number.isFinite(x)) throw new BeeError(`sample ${at / 4} is ${x} (a float WAV must hold finite values)`);
  }
}

/** Validates a WAV file's bytes and describes them without decoding the samples. */
export function probeWav(bytes: Uint8Array): WavInfo {
  const found = layout(bytes);
  const { format, frames } = found;
  if (format.formatTag === FLOAT) refuseNonFinite(found, bytes);
  return {
    sampleRate: format.sampleRate,
    channels: format.channels,
    bitsPerSample: format.bitsPerSample,
    encoding: format.formatTag === FLOAT ? 'float' : 'pcm',
    frames,
    seconds: frames / format.sampleRate,
  };
}

/** A plain 44-byte-header WAV of the located samples: what wav-decoder reads without surprises. */
function canonical({ format, dataOffset, frames }: Layout, bytes: Uint8Array): ArrayBuffer {
  const dataBytes = frames * format.blockAlign;
  const out = new Uint8Array(44 + dataBytes);
  const view = new DataView(out.buffer);
  out.set(
    [...'RIFF'].map((c) => c.charCodeAt(0)),
    0,
  );
  view.setUint32(4, 36 + dataBytes, true);
  out.set(
    [...'WAVEfmt '].map((c) => c.charCodeAt(0)),
    8,
  );
  view.setUint32(16, 16, true);
  view.setUint16(20, format.formatTag, true);
  view.setUint16(22, format.channels, true);
  view.setUint32(24, format.sampleRate, true);
  view.setUint32(28, format.sampleRate * format.blockAlign, true);
  view.setUint16(32, format.blockAlign, true);
  view.setUint16(34, format.bitsPerSample, true);
  out.set(
    [...'data'].map((c) => c.charCodeAt(0)),
    36,
  );
  view.setUint32(40, dataBytes, true);
  out.set(bytes.subarray(dataOffset, dataOffset + dataBytes), 44);
  return out.buffer;
}

/**
 * Decodes a WAV file's bytes to mono at its own sample rate. A float file's NaN or infinite
 * sample is refused (one would turn every feature, loss and weight it touches into NaN); its
 * finite samples beyond +/-1 are clipped to [-1, 1], the range integer PCM holds (an integer
 * file's most negative value stays the paper's -32768 / 32767).
 */
export function decodeWav(bytes: Uint8Array): Audio {
  const found = layout(bytes);
  const { format } = found;
  const decoded = wavDecoder.decode.sync(canonical(found, bytes), { symmetric: true });
  const { channelData } = decoded;
  const n = decoded.length;
  const c = channelData.length;
  const samples = new Float32Array(n);
  if (format.formatTag === FLOAT) refuseNonFinite(found, bytes);
  // divided before the sum: two channels near the float32 maximum must not add up to Infinity
  for (const channel of channelData) {
    for (let i = 0; i < n; i++) samples[i] += channel[i] / c;
  }
  if (format.formatTag === FLOAT) for (let i = 0; i < n; i++) samples[i] = Math.max(-1, Math.min(1, samples[i]));
  else for (let i = 0; i < n; i++) samples[i] = intScale(samples[i], format);
  return { sampleRate: format.sampleRate, samples };
}

/** Reads a WAV file and applies `parse`; every failure is a BeeError naming the file. */
function withWavFile<T>(file: string, parse: (bytes: Uint8Array) => T): T {
  const bytes = readRegularFile(file, MAX_WAV_BYTES, 'WAV file');
  try {
    return parse(bytes);
  } catch (err) {
    const reason = err instanceof BeeError ? err.reason : `cannot decode: ${(err as Error).message}`;
    throw new BeeError(reason, { file, hint: 'expected a PCM or float WAV file' });
  }
}

/** Reads and decodes a WAV file to mono. */
export const readWav = (file: string): Audio => withWavFile(file, decodeWav);

/** Reads and validates a WAV file's header and size. */
export const probeWavFile = (file: string): WavInfo => withWavFile(file, probeWav);

export interface WavSpec {
  sampleRate: number;
  /** per channel, in [-1, 1] */
  channels: Float32Array[] | number[][];
  bits: 8 | 16 | 24 | 32;
  float?: boolean;
  /** write WAVE_FORMAT_EXTENSIBLE instead of the plain tag */
  extensible?: boolean;
}

/**
 * A WAV file of any encoding bee reads. Integer PCM is quantized as round(x * (2^(bits-1) - 1))
 * (8-bit: offset by 128), the inverse of the decoder's scaling; x is clipped to [-1, 1].
 */
export function encodeWav({ sampleRate, channels, bits, float = false, extensible = false }: WavSpec): Buffer {
  const n = channels[0].length;
  const c = channels.length;
  const bytes = bits / 8;
  const fmtSize = extensible ? 40 : 16;
  const dataSize = n * c * bytes;
  const buf = Buffer.alloc(12 + 8 + fmtSize + 8 + dataSize);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(buf.length - 8, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(fmtSize, 16);
  const tag = float ? 3 : 1;
  buf.writeUInt16LE(extensible ? 0xfffe : tag, 20);
  buf.writeUInt16LE(c, 22);
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * c * bytes, 28);
  buf.writeUInt16LE(c * bytes, 32);
  buf.writeUInt16LE(bits, 34);
  if (extensible) {
    buf.writeUInt16LE(22, 36); // cbSize
    buf.writeUInt16LE(bits, 38); // valid bits
    buf.writeUInt32LE(0, 40); // channel mask
    buf.writeUInt16LE(tag, 44); // sub-format GUID, first two bytes
  }
  let at = 12 + 8 + fmtSize;
  buf.write('data', at, 'latin1');
  buf.writeUInt32LE(dataSize, at + 4);
  at += 8;
  const full = 2 ** (bits - 1) - 1;
  for (let i = 0; i < n; i++) {
    for (let ch = 0; ch < c; ch++) {
      const x = Math.max(-1, Math.min(1, channels[ch][i]));
      if (float) buf.writeFloatLE(x, at);
      else if (bits === 8) buf.writeUInt8(Math.round(x * 127) + 128, at);
      else if (bits === 16) buf.writeInt16LE(Math.round(x * full), at);
      else if (bits === 24) buf.writeIntLE(Math.round(x * full), at, 3);
      else buf.writeInt32LE(Math.round(x * full), at);
      at += bytes;
    }
  }
  return buf;
}
