import fs from 'node:fs';
import wavDecoder from 'wav-decoder';
import { BeeError } from '../errors.js';

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

/**
 * Walks the RIFF chunks and checks everything wav-decoder takes on trust, so that a corrupt or
 * truncated file is refused with a reason instead of read past its end or decoded as garbage.
 * Returns the format and the offset of the fmt chunk's format tag.
 */
function inspect(bytes: Uint8Array): { format: WavFormat; tagOffset: number; dataBytes: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (bytes.length < 12 || tag(0) !== 'RIFF' || tag(8) !== 'WAVE') {
    throw new BeeError('not a WAV file (no RIFF/WAVE header)');
  }
  let format: WavFormat | undefined;
  let tagOffset = 0;
  for (let at = 12; ; ) {
    if (at + 8 > bytes.length) throw new BeeError(format ? 'truncated: no data chunk' : 'truncated: no fmt chunk');
    const id = tag(at);
    const size = view.getUint32(at + 4, true);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > bytes.length) throw new BeeError('corrupt fmt chunk');
      tagOffset = body;
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
    } else if (id === 'data') {
      if (!format) throw new BeeError('corrupt: data chunk before fmt chunk');
      // Writers that stream set the size to 0 or 0xFFFFFFFF; anything else must fit the file.
      const streamed = size === 0 || size === 0xffffffff;
      if (!streamed && body + size > bytes.length) {
        throw new BeeError(`truncated: data chunk declares ${size} bytes, file holds ${bytes.length - body}`);
      }
      return { format, tagOffset, dataBytes: streamed ? bytes.length - body : size };
    }
    at = body + size + (size & 1);
  }
}

function check(format: WavFormat): void {
  const { formatTag, channels, sampleRate, bitsPerSample, blockAlign } = format;
  const supported =
    (formatTag === PCM && [8, 16, 24, 32].includes(bitsPerSample)) || (formatTag === FLOAT && bitsPerSample === 32);
  if (!supported) {
    const kind = formatTag === PCM ? 'PCM' : formatTag === FLOAT ? 'float' : `format 0x${formatTag.toString(16)}`;
    throw new BeeError(`unsupported encoding: ${kind} ${bitsPerSample}-bit (PCM 8/16/24/32-bit or 32-bit float)`);
  }
  if (channels < 1 || sampleRate < 1000 || sampleRate > 768000) {
    throw new BeeError(`corrupt fmt chunk: ${channels} channels at ${sampleRate} Hz`);
  }
  if (blockAlign !== (channels * bitsPerSample) / 8) throw new BeeError(`corrupt fmt chunk: block size ${blockAlign}`);
}

/**
 * wav-decoder's symmetric mode gives int / 2^(bits-1) (8-bit: (u - 127.5) / 127.5); rescale so that
 * integer formats read int / (2^(bits-1) - 1), the paper's int16 / 32767.
 */
function toSeedScale(x: number, format: WavFormat): number {
  if (format.formatTag === FLOAT) return x;
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

/** Validates a WAV file's bytes and describes them without decoding the samples. */
export function probeWav(bytes: Uint8Array): WavInfo {
  const { format, dataBytes } = inspect(bytes);
  check(format);
  const frames = Math.floor(dataBytes / format.blockAlign);
  return {
    sampleRate: format.sampleRate,
    channels: format.channels,
    bitsPerSample: format.bitsPerSample,
    encoding: format.formatTag === FLOAT ? 'float' : 'pcm',
    frames,
    seconds: frames / format.sampleRate,
  };
}

/** Decodes a WAV file's bytes to mono at its own sample rate. */
export function decodeWav(bytes: Uint8Array): Audio {
  const { format, tagOffset } = inspect(bytes);
  check(format);
  // wav-decoder does not know WAVE_FORMAT_EXTENSIBLE: hand it a copy carrying the plain tag.
  const copy = new Uint8Array(bytes).buffer;
  new DataView(copy).setUint16(tagOffset, format.formatTag, true);
  const decoded = wavDecoder.decode.sync(copy, { symmetric: true });
  const { channelData } = decoded;
  const n = decoded.length;
  const samples = new Float32Array(n);
  for (const channel of channelData) {
    for (let i = 0; i < n; i++) samples[i] += channel[i];
  }
  const c = channelData.length;
  for (let i = 0; i < n; i++) samples[i] = toSeedScale(samples[i] / c, format);
  return { sampleRate: format.sampleRate, samples };
}

/** Reads a WAV file and applies `parse`; every failure is a BeeError naming the file. */
function withWavFile<T>(file: string, parse: (bytes: Uint8Array) => T): T {
  let bytes: Uint8Array;
  try {
    bytes = fs.readFileSync(file);
  } catch (err) {
    throw new BeeError(`cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, {
      file,
      hint: 'check the path',
    });
  }
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
