// Audio sources for the listener: raw PCM on stdin in random chunkings against the same audio from
// a WAV file (fuzzing, helpers/fuzz.ts).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { BlockEngine } from '../src/engine/block-engine.ts';
import { decodePacked } from '../src/engine/format.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { exitCosts } from '../src/spec/network-cost.ts';
import { Listener } from '../src/stream/listener.ts';
import { feedPcm, feedWavFile } from '../src/stream/sources.ts';
import { tempDir } from './helpers/datasets.ts';
import { LIMITS, packedFuzzModel } from './helpers/fuzz.ts';
import { encodeWav } from './helpers/wav.ts';

let packed: Uint8Array;
before(async () => {
  packed = await packedFuzzModel();
});

/** A Listener over the fuzz network that keeps every answer; labels a, b, c all reportable. */
function listenerOf(engine: BlockEngine): Listener {
  const detection = { minConfidence: 0.34, suppressMs: 300, smoothWindows: 2, ignore: new Set<string>() };
  return new Listener(engine, ['a', 'b', 'c'], PAPER_FEATURES, {
    exitCosts: exitCosts(engine.model.header.network).map((e) => e.relativeMacs),
    hopMs: 100,
    rule: { criterion: 'max-softmax', thresholds: [0.4, 0.4, 0.4] },
    detection,
    keepAnswers: true,
  });
}

test('fuzz: raw PCM on stdin in any chunking gives the windows, answers and detections of the same audio from a WAV', async () => {
  const seconds = 2.35;
  const samples = Float32Array.from({ length: Math.round(seconds * 16000) }, (_, i) => 0.3 * Math.sin(i / (3 + i / 4000)) + 0.05 * Math.sin(i * 1.7));
  const wav = path.join(tempDir(), 'stream.wav');
  fs.writeFileSync(wav, encodeWav({ sampleRate: 16000, bits: 16, channels: [samples] }));
  const pcm = Buffer.alloc(2 * samples.length);
  samples.forEach((x, i) => pcm.writeInt16LE(Math.round(Math.max(-1, Math.min(1, x)) * 32767), 2 * i));
  const reference = listenerOf(new BlockEngine(decodePacked(packed)));
  await feedWavFile(wav, 16000, reference, 0.1);
  reference.finish();
  assert.equal(reference.answers.length, Math.floor((samples.length - 16000) / 1600) + 1);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 7000 }), { minLength: 1, maxLength: 40 }), async (sizes) => {
      const chunks: Uint8Array[] = [];
      for (let at = 0, k = 0; at < pcm.length; k++) {
        const n = sizes[k % sizes.length];
        chunks.push(pcm.subarray(at, at + n));
        at += n;
      }
      const listener = listenerOf(new BlockEngine(decodePacked(packed)));
      const stray = await feedPcm(
        (async function* () {
          yield* chunks;
        })(),
        's16le',
        1,
        listener,
      );
      listener.finish();
      assert.equal(stray, 0);
      assert.deepEqual(listener.answers, reference.answers);
      assert.deepEqual(listener.detections, reference.detections);
    }),
    { ...LIMITS, numRuns: 60 },
  );
});
