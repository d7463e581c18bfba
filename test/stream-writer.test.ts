import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { rms } from '../src/audio/level.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { buildStream, DEFAULT_STREAM } from '../src/stream/stream-writer.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset, writeHum } from './helpers/tones.ts';

test('a dense stream at --snr: each word that many dB above the noise under it', () => {
  const root = tempDir('bee-snr-');
  makeToneDataset(root, ['high', 'low'], 8, 1);
  const noise = writeHum(path.join(root, 'noise.wav'), 5, 0.02);
  const dataset = loadDataset(root, { split: { salt: 'bee', validationPercent: 25, testPercent: 25 } });
  const base = { ...DEFAULT_STREAM, split: 'train' as const, noiseFiles: [noise] };
  const plain = buildStream(dataset, base);
  const noiseOnly = buildStream(dataset, { ...base, snrDb: -60 }).samples; // words 60 dB under the noise: the noise alone, nearly
  for (const snrDb of [0, 10, 20]) {
    const { samples, truth } = buildStream(dataset, { ...base, snrDb });
    assert.deepEqual(truth, plain.truth, 'the same clips at the same times');
    for (const t of truth) {
      const [from, to] = [Math.round(t.start * 16000), Math.round(t.end * 16000)];
      const bed = noiseOnly.subarray(from, to);
      const word = samples.subarray(from, to).map((x, i) => x - bed[i]);
      const measured = 20 * Math.log10(rms(word) / rms(bed));
      assert.ok(Math.abs(measured - snrDb) < 0.2, `${t.label} at ${t.start} s: ${measured.toFixed(2)} dB for ${snrDb}`);
    }
  }
});
