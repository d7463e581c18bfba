import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadDataset, UNKNOWN } from '../src/data/dataset.ts';
import { DEFAULT_NEGATIVE_STREAM, writeNegativeStream } from '../src/stream/negative-stream.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset, writeHum } from './helpers/tones.ts';

const root = tempDir('bee-negatives-');
makeToneDataset(root, [UNKNOWN, 'high', 'low'], 12, 2);
const noise = writeHum(path.join(root, 'noise.wav'), 3);
const dataset = loadDataset(root, { split: { salt: 'bee', validationPercent: 25, testPercent: 25 } });
const options = { ...DEFAULT_NEGATIVE_STREAM, split: 'test' as const, noiseFiles: [noise], hours: 0.01, voices: 1 };

function negatives(seed: number): { samples: Float32Array; truth: ReturnType<typeof writeNegativeStream>; blocks: number } {
  const blocks: Float32Array[] = [];
  const truth = writeNegativeStream(dataset, { ...options, seed }, (b) => blocks.push(b.slice()));
  const samples = new Float32Array(blocks.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of blocks) {
    samples.set(b, at);
    at += b.length;
  }
  return { samples, truth, blocks: blocks.length };
}

test('a negative stream: no keyword in it, its length, written a block at a time, the same for the same seed', () => {
  const a = negatives(3);
  assert.equal(a.samples.length, Math.round(0.01 * 3600 * 16000), '36 s');
  assert.ok(a.blocks > 1, 'written in blocks');
  assert.ok(a.truth.length > 3, `${a.truth.length} utterances`);
  assert.ok(
    a.truth.every((t) => t.label === UNKNOWN),
    'every utterance is _unknown_: nothing bee listen reports',
  );
  assert.ok(
    a.truth.every((t, i) => i === 0 || t.start >= a.truth[i - 1].end + 1),
    'utterances at least the minimum gap apart',
  );
  assert.ok(a.samples.every((x) => Math.abs(x) <= 1));
  // a sentence (longer than a 1 s clip) and a clip of the split are both there
  assert.ok(a.truth.some((t) => t.end - t.start > 1.2) && a.truth.some((t) => Math.abs(t.end - t.start - 1) < 0.3));
  const again = negatives(3);
  assert.deepEqual(again.truth, a.truth);
  assert.ok(
    again.samples.every((x, i) => x === a.samples[i]),
    'the same seed writes the same samples',
  );
  const other = negatives(4);
  assert.notDeepEqual(other.truth, a.truth, 'another seed, another stream');
});

test('a negative stream speaks only the chosen split: a missing _unknown_ of another split is never read', () => {
  const copy = tempDir('bee-negatives-split-');
  fs.cpSync(root, copy, { recursive: true });
  const split = { salt: 'bee', validationPercent: 25, testPercent: 25 };
  const ds = loadDataset(copy, { split });
  for (const c of ds.clips) if (c.split !== 'validation') fs.rmSync(c.file);
  const truth = writeNegativeStream(ds, { ...options, split: 'validation', noiseFiles: [], seed: 1 }, () => {});
  assert.ok(truth.length > 0);
  assert.throws(() => writeNegativeStream(ds, { ...options, split: 'test', noiseFiles: [], seed: 1 }, () => {}), /cannot read|no such/);
});
