// Compares bee's log-mel features with golden TensorFlow ones written by scripts/golden_logmel.py.
//   node --import tsx scripts/compare-logmel.ts /tmp/real.json
import fs from 'node:fs';
import path from 'node:path';
import { readWav } from '../src/audio/wav.js';
import { LogMel } from '../src/features/logmel.js';

export interface GoldenDiff {
  clip: string;
  samples: number;
  shape: number[];
  maxAbsDiff: number;
}

/** Per-clip largest |bee - TensorFlow|; clip names resolve against the golden file's folder. */
export function compareGolden(goldenFile: string): { tensorflow: string; clips: GoldenDiff[] } {
  const golden = JSON.parse(fs.readFileSync(goldenFile, 'utf8')) as {
    tensorflow: string;
    clips: Record<string, { samples: number; shape: number[]; data: number[] }>;
  };
  const logMel = new LogMel();
  const clips = Object.entries(golden.clips).map(([clip, g]) => {
    const audio = readWav(path.resolve(path.dirname(goldenFile), clip));
    const { data, frames, melBins } = logMel.fromAudio(audio);
    let maxAbsDiff = data.length === g.data.length ? 0 : Infinity;
    for (let i = 0; i < g.data.length; i++) maxAbsDiff = Math.max(maxAbsDiff, Math.abs(data[i] - g.data[i]));
    return { clip, samples: audio.samples.length, shape: [frames, melBins], maxAbsDiff };
  });
  return { tensorflow: golden.tensorflow, clips };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: compare-logmel.ts GOLDEN.json');
    process.exit(2);
  }
  const { tensorflow, clips } = compareGolden(file);
  const worst = clips.reduce((a, b) => (b.maxAbsDiff > a.maxAbsDiff ? b : a));
  const shorter = clips.filter((c) => c.samples < 16000).length;
  console.log(
    `${clips.length} clips (${shorter} shorter than 1 s) vs TensorFlow ${tensorflow}: ` +
      `max |diff| ${worst.maxAbsDiff.toExponential(2)} (${path.basename(worst.clip)})`,
  );
}
