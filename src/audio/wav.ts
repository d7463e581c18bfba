import wavDecoder from 'wav-decoder';
import { BeeError } from '../errors.js';
import fs from 'node:fs';
import { removeStaleTemps, tempFileFor } from '../util/atomic.js';
import { openRegularFile, readRegularFile } from '../util/read-file.js';

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

/** Bytes read on demand: a whole file in memory, or a file on disk read where asked. */
interface ByteSource {
  length: number;
  /** up to n bytes from `at` (fewer at the end) */
  read(at: number, n: number): Uint8Array;
}

const inMemory = (bytes: Uint8Array): ByteSource => ({ length: bytes.length, read: (at, n) => bytes.subarray(at, at + n) });

const tagAt = (source: ByteSource, at: number) => String.fromCharCode(...source.read(at, 4));
const u32At = (source: ByteSource, at: number) => {
  const b = source.read(at, 4);
  return (b[0] | (b[1] << 8) | (b[2] << 16) | (b[3] << 24)) >>> 0;
};

/**
 * The one WAV reader: walks the RIFF chunks (odd-sized ones are padded to an even size, as RIFF
 * says; LIST, bext and any other chunk is skipped) and checks everything wav-decoder takes on
 * trust, so that a corrupt or truncated file is refused with a reason instead of read past its
 * end or decoded as garbage. Probe, decode and the streamed reader all read the file through it.
 */
function layout(source: ByteSource): Layout {
  if (source.length < 12 || tagAt(source, 0) !== 'RIFF' || tagAt(source, 8) !== 'WAVE') {
    throw new BeeError('not a WAV file (no RIFF/WAVE header)');
  }
  let format: WavFormat | undefined;
  for (let at = 12; ; ) {
    if (at + 8 > source.length) throw new BeeError(format ? 'truncated: no data chunk' : 'truncated: no fmt chunk');
    const id = tagAt(source, at);
    const size = u32At(source, at + 4);
    const body = at + 8;
    if (id === 'fmt ') {
      if (size < 16 || body + size > source.length) throw new BeeError('corrupt fmt chunk');
      const fmt = source.read(body, Math.min(size, 40));
      const view = new DataView(fmt.buffer, fmt.byteOffset, fmt.byteLength);
      format = {
        formatTag: view.getUint16(0, true),
        channels: view.getUint16(2, true),
        sampleRate: view.getUint32(4, true),
        blockAlign: view.getUint16(12, true),
        bitsPerSample: view.getUint16(14, true),
      };
      if (format.formatTag === EXTENSIBLE) {
        if (size < 40) throw new BeeError('corrupt WAVE_FORMAT_EXTENSIBLE header');
        format.formatTag = view.getUint16(24, true); // the sub-format GUID starts with the tag
      }
      check(format);
    } else if (id === 'data') {
      if (!format) throw new BeeError('corrupt: data chunk before fmt chunk');
      // Writers that stream set the size to 0 or 0xFFFFFFFF: the samples run to the end of the file.
      // (A 0 followed by well-formed chunks to the end is a truly empty data chunk.)
      const streamed = size === 0xffffffff || (size === 0 && !chunksToEnd(source, body));
      if (!streamed && body + size > source.length) {
        throw new BeeError(`truncated: data chunk declares ${size} bytes, file holds ${source.length - body}`);
      }
      const dataBytes = streamed ? source.length - body : size;
      return { format, dataOffset: body, frames: Math.floor(dataBytes / format.blockAlign) };
    }
    at = body + size + (size & 1);
  }
}

/** Whether well-formed chunks (a printable id, a size that fits, padded) run from `at` to the end. */
function chunksToEnd(source: ByteSource, at: number): boolean {
  if (at >= source.length) return false;
  while (at < source.length) {
    if (at + 8 > source.length || !source.read(at, 4).every((c) => c >= 0x20 && c < 0x7f)) return false;
    const size = u32At(source, at + 4);
    at += 8 + size + (size & 1);
  }
  return at === source.length || at === source.length + 1; // a last odd chunk may lack its pad byte
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

/** A float file's NaN or infinite sample, refused by probe and decode alike; `first`: the index of data's first sample in the file. */
function refuseNonFinite(data: Uint8Array, first = 0): void {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  for (let at = 0; at + 4 <= view.byteLength; at += 4) {
    const x = view.getFloat32(at, true);
    if (!Number.isFinite(x)) throw new BeeError(`sample ${first + at / 4} is ${x} (a float WAV must hold finite values)`);
  }
}

const dataOf = ({ format, dataOffset, frames }: Layout, bytes: Uint8Array) => bytes.subarray(dataOffset, dataOffset + frames * format.blockAlign);

/** Validates a WAV file's bytes and describes them without decoding the samples. */
export function probeWav(bytes: Uint8Array): WavInfo {
  const found = layout(inMemory(bytes));
  if (found.format.formatTag === FLOAT) refuseNonFinite(dataOf(found, bytes));
  return infoOf(found);
}

function infoOf({ format, frames }: Layout): WavInfo {
  return {
    sampleRate: format.sampleRate,
    channels: format.channels,
    bitsPerSample: format.bitsPerSample,
    encoding: format.formatTag === FLOAT ? 'float' : 'pcm',
    frames,
    seconds: frames / format.sampleRate,
  };
}

/** A plain 44-byte-header WAV of these sample frames: what wav-decoder reads without surprises. */
function canonical(format: WavFormat, data: Uint8Array): ArrayBuffer {
  const dataBytes = data.length;
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
  out.set(data, 44);
  return out.buffer;
}

/**
 * Decodes a WAV file's bytes to mono at its own sample rate. A float file's NaN or infinite
 * sample is refused (one would turn every feature, loss and weight it touches into NaN); its
 * finite samples beyond +/-1 are clipped to [-1, 1], the range integer PCM holds (an integer
 * file's most negative value stays the paper's -32768 / 32767).
 */
export function decodeWav(bytes: Uint8Array): Audio {
  const found = layout(inMemory(bytes));
  const { frames, format } = found;
  // Bytes are bounded by the caller; samples are bounded here: an 8-bit 1 kHz file holds 16x the
  // seconds of a 16-bit 16 kHz one of its size, and every second becomes 16,000 floats.
  if (frames > MAX_WHOLE_FRAMES || frames / format.sampleRate > MAX_WHOLE_SECONDS)
    throw new BeeError(
      `${(frames / format.sampleRate / 60).toFixed(0)} min of ${format.sampleRate} Hz audio is more than bee reads whole (${(MAX_WHOLE_SECONDS / 60).toFixed(0)} min, ${MAX_WHOLE_FRAMES / 2 ** 20} Mi samples; bee listen streams any length)`,
    );
  return { sampleRate: format.sampleRate, samples: decodeFrames(format, dataOf(found, bytes)) };
}

/** What a WAV read whole may decode to: the samples and the seconds of MAX_WAV_BYTES of 16-bit mono at 16 kHz (bee listen streams any length). */
export const MAX_WHOLE_FRAMES = MAX_WAV_BYTES / 2;
export const MAX_WHOLE_SECONDS = MAX_WHOLE_FRAMES / 16000;

/** Whole sample frames of a data chunk to mono; `first`: the index of their first sample in the file (for errors). */
function decodeFrames(format: WavFormat, data: Uint8Array, first = 0): Float32Array {
  if (format.formatTag === FLOAT) refuseNonFinite(data, first);
  const decoded = wavDecoder.decode.sync(canonical(format, data), { symmetric: true });
  const { channelData } = decoded;
  const n = decoded.length;
  const c = channelData.length;
  const samples = new Float32Array(n);
  // divided before the sum: two channels near the float32 maximum must not add up to Infinity
  for (const channel of channelData) {
    for (let i = 0; i < n; i++) samples[i] += channel[i] / c;
  }
  if (format.formatTag === FLOAT) for (let i = 0; i < n; i++) samples[i] = Math.max(-1, Math.min(1, samples[i]));
  else for (let i = 0; i < n; i++) samples[i] = intScale(samples[i], format);
  return samples;
}

/**
 * A WAV file read a block at a time, in bounded memory whatever its length: the same checks and
 * the same samples as readWav, for `bee listen` on hours of audio.
 */
export class WavFileReader {
  readonly info: WavInfo;
  private readonly format: WavFormat;
  private readonly dataOffset: number;
  private next = 0;

  private constructor(
    readonly file: string,
    private readonly fd: number,
    found: Layout,
  ) {
    this.format = found.format;
    this.dataOffset = found.dataOffset;
    this.info = infoOf(found);
  }

  static open(file: string): WavFileReader {
    const fd = openRegularFile(file, 'WAV file');
    try {
      const size = fs.fstatSync(fd).size;
      const source: ByteSource = {
        length: size,
        read(at, n) {
          const out = Buffer.alloc(Math.max(0, Math.min(n, size - at)));
          fs.readSync(fd, out, 0, out.length, at);
          return out;
        },
      };
      return new WavFileReader(
        file,
        fd,
        wavError(file, () => layout(source)),
      );
    } catch (err) {
      fs.closeSync(fd);
      throw err;
    }
  }

  /** The next up to `frames` frames as mono samples at the file's rate; null at the end. */
  read(frames: number): Float32Array | null {
    const count = Math.min(frames, this.info.frames - this.next);
    if (count <= 0) return null;
    const bytes = Buffer.alloc(count * this.format.blockAlign);
    const got = fs.readSync(this.fd, bytes, 0, bytes.length, this.dataOffset + this.next * this.format.blockAlign);
    const whole = Math.floor(got / this.format.blockAlign);
    if (whole === 0) return null; // it shrank meanwhile: what was there is what there was
    const first = this.next * this.format.channels;
    this.next += whole;
    return wavError(this.file, () => decodeFrames(this.format, bytes.subarray(0, whole * this.format.blockAlign), first));
  }

  close(): void {
    fs.closeSync(this.fd);
  }
}

/** Runs `parse`; every failure is a BeeError naming the file. */
function wavError<T>(file: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    const reason = err instanceof BeeError ? err.reason : `cannot decode: ${(err as Error).message}`;
    throw new BeeError(reason, { file, hint: 'expected a PCM or float WAV file' });
  }
}

/** Reads a WAV file whole and applies `parse`. */
function withWavFile<T>(file: string, parse: (bytes: Uint8Array) => T): T {
  const bytes = readRegularFile(file, MAX_WAV_BYTES, 'WAV file');
  return wavError(file, () => parse(bytes));
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

/**
 * A 16-bit mono WAV written a block at a time (hours of audio in bounded memory), beside its
 * target as a temp file that `finish` renames into place: readers see the old file or the whole
 * new one, never a part. Samples are clipped and quantized as encodeWav does.
 */
export class WavFileWriter {
  private readonly fd: number;
  private readonly tmp: string;
  private frames = 0;

  constructor(
    readonly file: string,
    readonly sampleRate: number,
  ) {
    removeStaleTemps(file);
    this.tmp = tempFileFor(file);
    this.fd = fs.openSync(this.tmp, 'w');
    fs.writeSync(this.fd, Buffer.alloc(44)); // the header, written by finish() once the size is known
  }

  write(samples: Float32Array): void {
    const out = Buffer.alloc(samples.length * 2);
    for (let i = 0; i < samples.length; i++) out.writeInt16LE(Math.round(Math.max(-1, Math.min(1, samples[i])) * 32767), 2 * i);
    if (44 + (this.frames + samples.length) * 2 > 0xffffffff) throw new BeeError('more than a WAV file holds (4 GiB)', { file: this.file });
    fs.writeSync(this.fd, out, 0, out.length, 44 + this.frames * 2);
    this.frames += samples.length;
  }

  /** Writes the header and flushes the temp file to disk; commit() puts it in place. */
  finish(): void {
    const header = encodeWav({ sampleRate: this.sampleRate, channels: [new Float32Array(0)], bits: 16 });
    header.writeUInt32LE(36 + this.frames * 2, 4);
    header.writeUInt32LE(this.frames * 2, 40);
    fs.writeSync(this.fd, header, 0, 44, 0);
    fs.fsyncSync(this.fd);
    fs.closeSync(this.fd);
  }

  commit(): void {
    fs.renameSync(this.tmp, this.file);
  }

  get seconds(): number {
    return this.frames / this.sampleRate;
  }

  /** Drops the temp file (after a failure). */
  abort(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      // closed already by finish()
    }
    fs.rmSync(this.tmp, { force: true });
  }
}
