import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { decodeWav, probeWav, readWav } from '../src/audio/wav.ts';
import { BeeError } from '../src/errors.ts';
import { encodeWav } from './helpers/wav.ts';

const ramp = [0, 0.25, -0.25, 1, -1, 0.5];

test('int16 reads as int / 32767, the paper scaling, both signs', () => {
  const bytes = Buffer.from(encodeWav({ sampleRate: 16000, channels: [[0]], bits: 16 }));
  const at = bytes.length - 2;
  for (const int of [32767, -32767, -32768, 1, -1, 12345]) {
    bytes.writeInt16LE(int, at);
    assert.equal(decodeWav(bytes).samples[0], Math.fround(int / 32767));
  }
});

for (const [bits, float] of [[8, false], [16, false], [24, false], [32, false], [32, true]] as const) {
  test(`decodes ${float ? 'float' : 'PCM'} ${bits}-bit to the same full scale`, () => {
    const audio = decodeWav(encodeWav({ sampleRate: 8000, channels: [ramp], bits, float }));
    assert.equal(audio.sampleRate, 8000);
    assert.equal(audio.samples.length, ramp.length);
    const tolerance = float ? 0 : 1 / (2 ** (bits - 1) - 1); // one quantization step
    ramp.forEach((x, i) => assert.ok(Math.abs(audio.samples[i] - Math.fround(x)) <= tolerance, `${bits}-bit sample ${i}: ${audio.samples[i]} vs ${x}`));
  });
}

test('mixes channels to mono and reads WAVE_FORMAT_EXTENSIBLE', () => {
  const left = [1, 0.5, 0, -1];
  const right = [0, 0.5, 1, -1];
  const audio = decodeWav(encodeWav({ sampleRate: 44100, channels: [left, right], bits: 24, extensible: true }));
  assert.deepEqual(Array.from(audio.samples, (x) => Math.round(x * 1e6) / 1e6), [0.5, 0.5, 0.5, -1]);
});

test('probeWav reports the format without decoding', () => {
  const info = probeWav(encodeWav({ sampleRate: 22050, channels: [new Array(2205).fill(0), new Array(2205).fill(0)], bits: 16 }));
  assert.deepEqual(info, { sampleRate: 22050, channels: 2, bitsPerSample: 16, encoding: 'pcm', frames: 2205, seconds: 0.1 });
});

test('corrupt, truncated and foreign files fail with a reason that names the file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-wav-'));
  const good = encodeWav({ sampleRate: 16000, channels: [new Array(100).fill(0.1)], bits: 16 });
  const cases: [string, Buffer, RegExp][] = [
    ['text.wav', Buffer.from('hello, not audio'), /not a WAV file/],
    ['truncated.wav', good.subarray(0, good.length - 50), /truncated: data chunk declares 200 bytes, file holds 150/],
    ['header-only.wav', good.subarray(0, 30), /corrupt fmt chunk|truncated/],
    ['empty.wav', Buffer.alloc(0), /not a WAV file/],
    ['adpcm.wav', Buffer.from(good).fill(2, 20, 21), /unsupported encoding: format 0x2/],
    ['zero-block.wav', Buffer.from(good).fill(0, 32, 34), /corrupt fmt chunk: block size 0/],
  ];
  for (const [name, bytes, reason] of cases) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    assert.throws(() => readWav(file), (err: unknown) => {
      assert.ok(err instanceof BeeError, `${name}: ${err}`);
      assert.match(err.message, reason);
      assert.ok(err.oneLine().startsWith(file), err.oneLine());
      assert.ok(!err.oneLine().includes('\n'));
      return true;
    });
  }
  assert.throws(() => readWav(path.join(dir, 'missing.wav')), /missing\.wav: cannot read: ENOENT/);
  fs.rmSync(dir, { recursive: true });
});
