// Writes WAV files of any supported encoding, for tests.
import fs from 'node:fs';
import { encodeWav, type WavSpec } from '../../src/audio/wav.ts';

export { encodeWav, type WavSpec };

export function writeWav(file: string, spec: WavSpec): void {
  fs.writeFileSync(file, encodeWav(spec));
}

export function sine(frequency: number, sampleRate: number, seconds: number, amplitude = 0.5): Float32Array {
  return Float32Array.from({ length: Math.round(sampleRate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
}
