import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { decodeWav, probeWav, probeWavFile, readWav, WavFileReader, WavFileWriter } from '../src/audio/wav.ts';
import { readRegularFile } from '../src/util/read-file.ts';
import { BeeError } from '../src/errors.ts';
import { LIMITS, mutate, mutation, refusesOrReads } from './helpers/fuzz.ts';
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

for (const [bits, float] of [
  [8, false],
  [16, false],
  [24, false],
  [32, false],
  [32, true],
] as const) {
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
  assert.deepEqual(
    Array.from(audio.samples, (x) => Math.round(x * 1e6) / 1e6),
    [0.5, 0.5, 0.5, -1],
  );
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
    assert.throws(
      () => readWav(file),
      (err: unknown) => {
        assert.ok(err instanceof BeeError, `${name}: ${err}`);
        assert.match(err.message, reason);
        assert.ok(err.oneLine().startsWith(file), err.oneLine());
        assert.ok(!err.oneLine().includes('\n'));
        return true;
      },
    );
  }
  assert.throws(() => readWav(path.join(dir, 'missing.wav')), /missing\.wav: cannot read: ENOENT/);
  fs.rmSync(dir, { recursive: true });
});

/** A RIFF/WAVE file of the given chunks (id, body), each padded to an even size as RIFF says. */
function riff(chunks: [string, Buffer][]): Buffer {
  const parts = chunks.flatMap(([id, body]) => {
    const head = Buffer.alloc(8);
    head.write(id, 0, 'latin1');
    head.writeUInt32LE(body.length, 4);
    return body.length & 1 ? [head, body, Buffer.alloc(1)] : [head, body];
  });
  const all = Buffer.concat(parts);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(all.length + 4, 4);
  head.write('WAVE', 8, 'latin1');
  return Buffer.concat([head, all]);
}

const fmt16 = (extra = 0) => {
  const body = Buffer.alloc(16 + extra);
  body.writeUInt16LE(1, 0);
  body.writeUInt16LE(1, 2);
  body.writeUInt32LE(16000, 4);
  body.writeUInt32LE(32000, 8);
  body.writeUInt16LE(2, 12);
  body.writeUInt16LE(16, 14);
  return body;
};
const pcm = (ints: number[]) => Buffer.from(Int16Array.from(ints).buffer);

test('odd-sized chunks (LIST, bext, a 17-byte fmt) are skipped with their pad byte; probe and decode agree', () => {
  const data = pcm([32767, -32767, 0, 16384]);
  const files = [
    riff([
      ['fmt ', fmt16(1)],
      ['data', data],
    ]),
    riff([
      ['fmt ', fmt16()],
      ['LIST', Buffer.from('INFOISFT\x03\x00\x00\x00bee\x00x')],
      ['data', data],
    ]),
    riff([
      ['bext', Buffer.alloc(603, 7)],
      ['fmt ', fmt16(1)],
      ['LIST', Buffer.alloc(5)],
      ['data', data],
    ]),
  ];
  for (const bytes of files) {
    assert.equal(probeWav(bytes).frames, 4);
    assert.deepEqual(Array.from(decodeWav(bytes).samples), [1, -1, 0, Math.fround(16384 / 32767)]);
  }
});

test('a data chunk declaring 0 or 0xFFFFFFFF bytes (a streaming writer) runs to the end, in probe and decode', () => {
  for (const declared of [0, 0xffffffff]) {
    const bytes = riff([
      ['fmt ', fmt16()],
      ['data', pcm([100, 200, 300])],
    ]);
    bytes.writeUInt32LE(declared, bytes.length - 6 - 4);
    assert.equal(probeWav(bytes).frames, 3);
    assert.equal(decodeWav(bytes).samples.length, 3);
  }
});

test('an empty data chunk followed by other chunks is empty, not streamed', () => {
  const bytes = riff([
    ['fmt ', fmt16()],
    ['data', Buffer.alloc(0)],
    ['LIST', Buffer.from('INFOISFT\x04\x00\x00\x00bee\x00')],
  ]);
  assert.equal(probeWav(bytes).frames, 0);
  assert.equal(decodeWav(bytes).samples.length, 0);
});

test('float NaN or Inf samples are refused by probe and decode; finite ones beyond +/-1 are clipped', () => {
  for (const bad of [NaN, Infinity, -Infinity]) {
    const bytes = encodeWav({ sampleRate: 16000, channels: [[0.1, 0.2, 0.3]], bits: 32, float: true });
    bytes.writeFloatLE(bad, bytes.length - 4);
    assert.throws(() => probeWav(bytes), new RegExp(`sample 2 is ${bad}`));
    assert.throws(() => decodeWav(bytes), new RegExp(`sample 2 is ${bad}`));
  }
  const big = encodeWav({
    sampleRate: 16000,
    channels: [
      [0, 0],
      [0, 0],
    ],
    bits: 32,
    float: true,
  });
  for (const [i, x] of [3e38, 3e38, -3e38, 2].entries()) big.writeFloatLE(x, big.length - 16 + 4 * i);
  assert.deepEqual(Array.from(decodeWav(big).samples), [1, -1]); // 3e38 + 3e38 overflows float32 if summed first
});

test('devices, FIFOs and directories are refused before a read; the read is bounded', { skip: process.platform === 'win32' }, () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-wav-'));
  fs.symlinkSync('/dev/zero', path.join(dir, 'zero.wav'));
  assert.throws(() => readWav(path.join(dir, 'zero.wav')), /zero\.wav: not a regular file \(a device\)/);
  spawnSync('mkfifo', [path.join(dir, 'fifo.wav')]);
  assert.throws(() => readWav(path.join(dir, 'fifo.wav')), /fifo\.wav: not a regular file \(a FIFO\)/);
  fs.mkdirSync(path.join(dir, 'dir.wav'));
  assert.throws(() => probeWavFile(path.join(dir, 'dir.wav')), /dir\.wav: not a regular file \(a directory\)/);
  fs.symlinkSync('loop.wav', path.join(dir, 'loop.wav'));
  assert.throws(() => readWav(path.join(dir, 'loop.wav')), /loop\.wav: cannot read: ELOOP \(too many levels of symbolic links/);
  fs.writeFileSync(path.join(dir, 'big.bin'), Buffer.alloc(2048));
  assert.throws(() => readRegularFile(path.join(dir, 'big.bin'), 1024, 'test file'), /big\.bin: 0\.0 MiB is more than/);
  assert.equal(readRegularFile(path.join(dir, 'big.bin'), 2048).length, 2048);
  fs.rmSync(dir, { recursive: true });
});

test('a WAV read a block at a time gives the samples of reading it whole, in every encoding', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-wavstream-'));
  const left = Float32Array.from({ length: 10007 }, (_, i) => 0.8 * Math.sin(i / 9));
  const right = Float32Array.from({ length: 10007 }, (_, i) => 0.5 * Math.cos(i / 31));
  const specs = [
    { bits: 16 as const, channels: [left] },
    { bits: 8 as const, channels: [left, right] },
    { bits: 24 as const, channels: [left] },
    { bits: 32 as const, channels: [left, right], float: true },
    { bits: 32 as const, channels: [right], extensible: true },
  ];
  specs.forEach((spec, k) => {
    const file = path.join(dir, `${k}.wav`);
    fs.writeFileSync(file, encodeWav({ sampleRate: 22050, ...spec }));
    const whole = readWav(file);
    const reader = WavFileReader.open(file);
    assert.equal(reader.info.frames, 10007);
    const got: number[] = [];
    for (let block = reader.read(999); block; block = reader.read(999)) got.push(...block);
    reader.close();
    assert.equal(got.length, whole.samples.length);
    assert.ok(
      got.every((x, i) => x === whole.samples[i]),
      `encoding ${k}: the same samples`,
    );
  });
  assert.throws(() => WavFileReader.open(path.join(dir, 'nothing.wav')), /nothing\.wav: cannot read/);
  fs.writeFileSync(path.join(dir, 'junk.wav'), 'RIFF0000WAVEjunk');
  assert.throws(() => WavFileReader.open(path.join(dir, 'junk.wav')), /junk\.wav: truncated/);
});

test('a WAV written a block at a time: what encodeWav writes, in place only when committed', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-wavwrite-'));
  const file = path.join(dir, 'out.wav');
  fs.writeFileSync(file, 'old');
  const samples = Float32Array.from({ length: 5000 }, (_, i) => 1.2 * Math.sin(i / 7));
  const writer = new WavFileWriter(file, 16000);
  writer.write(samples.subarray(0, 1234));
  writer.write(samples.subarray(1234));
  writer.finish();
  assert.equal(fs.readFileSync(file, 'utf8'), 'old', 'the target is untouched until commit');
  writer.commit();
  assert.deepEqual(fs.readFileSync(file), encodeWav({ sampleRate: 16000, bits: 16, channels: [samples] }));
  assert.equal(writer.seconds, 5000 / 16000);
  const dropped = new WavFileWriter(path.join(dir, 'dropped.wav'), 16000);
  dropped.write(samples);
  dropped.abort();
  assert.deepEqual(fs.readdirSync(dir), ['out.wav'], 'an aborted write leaves nothing behind');
});

test('a WAV read whole is bounded by its decoded samples, not only its bytes; streamed, it is not', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-wavlong-'));
  const file = path.join(dir, 'long-8bit-1khz.wav');
  // 17 MB of 8-bit samples at 1 kHz: 4.7 hours, 272 M floats once at 16 kHz
  const header = encodeWav({ sampleRate: 1000, bits: 8, channels: [new Float32Array(0)] });
  const frames = 17_000_000;
  header.writeUInt32LE(36 + frames, 4);
  header.writeUInt32LE(frames, 40);
  fs.writeFileSync(file, Buffer.concat([header, Buffer.alloc(frames, 128)]));
  assert.throws(() => readWav(file), /long-8bit-1khz\.wav: 283 min of 1000 Hz audio is more than bee reads whole \(280 min/);
  const reader = WavFileReader.open(file);
  assert.equal(reader.info.frames, frames);
  assert.equal(reader.read(1000)?.length, 1000);
  reader.close();
});

// Fuzzing (helpers/fuzz.ts): random and mutated WAV files are read or refused in one line.

/** Valid WAV files of every encoding bee reads, some with extra (odd-sized) chunks. */
const wavFile = fc
  .record({
    bits: fc.constantFrom(8, 16, 24, 32),
    float: fc.boolean(),
    channels: fc.integer({ min: 1, max: 3 }),
    frames: fc.integer({ min: 0, max: 200 }),
    rate: fc.constantFrom(8000, 16000, 44100),
    extensible: fc.boolean(),
    extra: fc.integer({ min: 0, max: 9 }),
  })
  .map(({ bits, float, channels, frames, rate, extensible, extra }) => {
    const wav = encodeWav({
      sampleRate: rate,
      bits: float ? 32 : (bits as 8 | 16 | 24 | 32),
      float,
      extensible,
      channels: Array.from({ length: channels }, (_, c) => Array.from({ length: frames }, (_, i) => Math.sin(i + c))),
    });
    if (extra === 0) return new Uint8Array(wav);
    const list = Buffer.alloc(8 + extra + (extra & 1));
    list.write('LIST', 0, 'latin1');
    list.writeUInt32LE(extra, 4);
    const fmtEnd = 12 + 8 + wav.readUInt32LE(16);
    const out = Buffer.concat([wav.subarray(0, fmtEnd), list, wav.subarray(fmtEnd)]);
    out.writeUInt32LE(out.length - 8, 4);
    return new Uint8Array(out);
  });

test('fuzz: random bytes are refused as WAV files in one line, or read', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
      refusesOrReads(() => probeWav(bytes));
      refusesOrReads(() => decodeWav(bytes));
    }),
    LIMITS,
  );
});

test('fuzz: mutated WAV files: probe and decode agree, samples are finite and bounded', () => {
  fc.assert(
    fc.property(wavFile, fc.array(mutation, { maxLength: 4 }), (wav, mutations) => {
      const bytes = mutate(wav, mutations);
      const probed = refusesOrReads(() => probeWav(bytes));
      const decoded = refusesOrReads(() => decodeWav(bytes));
      assert.equal(
        probed instanceof BeeError,
        decoded instanceof BeeError,
        `probe: ${probed instanceof BeeError ? probed.reason : 'ok'}, decode: ${decoded instanceof BeeError ? decoded.reason : 'ok'}`,
      );
      if (decoded instanceof BeeError || probed instanceof BeeError) return;
      assert.equal(decoded.samples.length, probed.frames);
      assert.ok(decoded.samples.length * probed.channels * (probed.bitsPerSample / 8) <= bytes.length, 'no more samples than the file holds');
      // the most negative integer reads as -2^(bits-1) / (2^(bits-1) - 1): -128 / 127 at worst
      for (const x of decoded.samples) assert.ok(Number.isFinite(x) && Math.abs(x) <= 128 / 127 + 1e-6, `sample ${x}`);
    }),
    LIMITS,
  );
});
