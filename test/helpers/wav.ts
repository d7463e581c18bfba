// Writes WAV files of any supported encoding, for tests.
import fs from 'node:fs';

export interface WavSpec {
  sampleRate: number;
  /** per channel, in [-1, 1] */
  channels: Float32Array[] | number[][];
  bits: 8 | 16 | 24 | 32;
  float?: boolean;
  /** write WAVE_FORMAT_EXTENSIBLE instead of the plain tag */
  extensible?: boolean;
}

/** Integer PCM is quantized as round(x * (2^(bits-1) - 1)) (8-bit: offset by 128). */
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
      const x = channels[ch][i];
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

export function writeWav(file: string, spec: WavSpec): void {
  fs.writeFileSync(file, encodeWav(spec));
}

export function sine(frequency: number, sampleRate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(sampleRate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
}
