import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { readWav } from '../src/audio/wav.ts';
import { resample } from '../src/audio/resample.ts';
import { LogMel } from '../src/features/logmel.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { StreamingLogMel } from '../src/features/streaming-logmel.ts';
import { mulberry32 } from '../src/util/rng.ts';
import { SHARED_TEST_SET } from './helpers/datasets.ts';

const NOISE = path.join(path.dirname(SHARED_TEST_SET), 'speech-commands-background-noise', 'doing_the_dishes.wav');

/** Streams `samples` in pieces of random sizes; checks every window against LogMel.compute of its 16,000 samples. */
function checkEveryWindow(samples: Float32Array, seed: number): number {
  const rng = mulberry32(seed);
  const stream = new StreamingLogMel();
  const batch = new LogMel();
  const window = new Float32Array(stream.frames * stream.melBins);
  let windows = 0;
  let worst = 0;
  for (let at = 0; at < samples.length; ) {
    const n = 1 + Math.floor(rng() * 700);
    stream.push(samples.subarray(at, at + n), (done) => {
      if (done < stream.frames) return;
      stream.window(window);
      const start = (done - stream.frames) * PAPER_FEATURES.frameStep;
      const want = batch.compute(samples.subarray(start, start + PAPER_FEATURES.clipSamples)).data;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(want[i] - window[i]));
      windows++;
    });
    at += n;
  }
  assert.ok(worst <= 1e-5, `incremental and batch features differ by ${worst}`);
  return windows;
}

test('incremental log-mel equals batch log-mel on every window (a synthetic signal, pushed in random pieces)', () => {
  const rng = mulberry32(3);
  const samples = Float32Array.from({ length: 16000 * 3 }, (_, i) => 0.3 * Math.sin(i / 9) * Math.sin(i / 3000) + 0.05 * (rng() - 0.5));
  const windows = checkEveryWindow(samples, 1);
  assert.equal(windows, Math.floor((samples.length - 400) / 160) + 1 - 97);
});

test('incremental log-mel equals batch log-mel on every window of a real recording', { skip: fs.existsSync(NOISE) ? false : `no ${NOISE}` }, () => {
  const audio = readWav(NOISE);
  const samples = resample(audio.samples, audio.sampleRate, 16000).subarray(0, 16000 * 6);
  assert.ok(checkEveryWindow(samples, 2) > 400);
});
