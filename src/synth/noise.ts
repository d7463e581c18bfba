import { rms } from '../audio/level.js';
import type { Rng } from '../util/rng.js';

export const NOISE_KINDS = ['white', 'pink', 'brown', 'hum'] as const;
export type NoiseKind = (typeof NOISE_KINDS)[number];

function gaussian(rng: Rng): number {
  return Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
}

/**
 * Background noise of unit RMS: white; pink (Paul Kellet's filter, -3 dB/octave, like fans and
 * rain); brown (leaky integration, -6 dB/octave, like rumble); mains hum (50 or 60 Hz and its
 * harmonics over a little white noise).
 */
export function makeNoise(kind: NoiseKind, length: number, sampleRate: number, rng: Rng): Float32Array {
  const out = new Float32Array(length);
  if (kind === 'white') for (let i = 0; i < length; i++) out[i] = gaussian(rng);
  else if (kind === 'pink') {
    let [b0, b1, b2, b3, b4, b5, b6] = [0, 0, 0, 0, 0, 0, 0];
    for (let i = 0; i < length; i++) {
      const w = gaussian(rng);
      b0 = 0.99886 * b0 + w * 0.0555179;
      b1 = 0.99332 * b1 + w * 0.0750759;
      b2 = 0.969 * b2 + w * 0.153852;
      b3 = 0.8665 * b3 + w * 0.3104856;
      b4 = 0.55 * b4 + w * 0.5329522;
      b5 = -0.7616 * b5 - w * 0.016898;
      out[i] = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
      b6 = w * 0.115926;
    }
  } else if (kind === 'brown') {
    let y = 0;
    for (let i = 0; i < length; i++) out[i] = y = 0.995 * y + 0.1 * gaussian(rng);
  } else {
    const mains = rng() < 0.5 ? 50 : 60;
    const harmonics = Array.from({ length: 6 }, (_, h) => ({ f: mains * (h + 1), a: 1 / (h + 1) ** (0.5 + rng()), phase: 2 * Math.PI * rng() }));
    for (let i = 0; i < length; i++) {
      let x = 0.05 * gaussian(rng);
      for (const { f, a, phase } of harmonics) x += a * Math.sin((2 * Math.PI * f * i) / sampleRate + phase);
      out[i] = x;
    }
  }
  return scaleToRms(out, 1);
}

/** Scales x in place to the given RMS (a silent x stays silent). */
export function scaleToRms(x: Float32Array, target: number): Float32Array {
  const r = rms(x);
  if (r > 0) for (let i = 0; i < x.length; i++) x[i] *= target / r;
  return x;
}
