// A small learnable dataset: each class is a tone with harmonics, each "speaker" a pitch and level.
import fs from 'node:fs';
import path from 'node:path';
import { mulberry32 } from '../../src/util/rng.ts';
import { writeWav } from './wav.ts';

export function makeToneDataset(root: string, classes = ['high', 'low', 'mid'], speakers = 12, perSpeaker = 2): void {
  const base: Record<string, number> = { low: 300, mid: 900, high: 2500 };
  const rng = mulberry32(42);
  classes.forEach((label, c) => {
    fs.mkdirSync(path.join(root, label), { recursive: true });
    for (let s = 0; s < speakers; s++) {
      const speaker = (0xd0000000 + s * 104729).toString(16);
      for (let k = 0; k < perSpeaker; k++) {
        const f0 = (base[label] ?? 400 + 300 * c) * (0.9 + 0.2 * rng());
        const level = 0.05 + 0.3 * rng();
        const n = 12000 + Math.floor(rng() * 4000);
        const samples = Float32Array.from({ length: n }, (_, i) => {
          const t = i / 16000;
          const env = Math.sin((Math.PI * i) / n);
          return level * env * (Math.sin(2 * Math.PI * f0 * t) + 0.4 * Math.sin(4 * Math.PI * f0 * t)) + 0.01 * (rng() - 0.5);
        });
        writeWav(path.join(root, label, `${speaker}_nohash_${k}.wav`), { sampleRate: 16000, bits: 16, channels: [samples] });
      }
    }
  });
}

/** A background-noise recording for streams: two hums, `seconds` long, at about `level`. */
export function writeHum(file: string, seconds: number, level = 0.01): string {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const samples = Float32Array.from({ length: Math.round(seconds * 16000) }, (_, i) => level * (Math.sin(i / 3) + 0.5 * Math.sin(i / 17)));
  writeWav(file, { sampleRate: 16000, bits: 16, channels: [samples] });
  return file;
}
