// Fuzzing the readers: random and mutated WAV files, packed models, model metadata, raw PCM
// chunkings and truth files. Each reader
// must return a valid result or throw bee's one-line error: no other exception, no hang, no
// allocation beyond what the input's own size allows. Every property is bounded in time.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { initBackend } from '../src/backend/backend.ts';
import { decodeWav, probeWav } from '../src/audio/wav.ts';
import { crc32 } from '../src/engine/crc32.ts';
import { BlockEngine } from '../src/engine/block-engine.ts';
import { packModel } from '../src/convert/pack.ts';
import { decodePacked, encodePacked } from '../src/engine/format.ts';
import { neverEarly } from '../src/spec/exit-rules.ts';
import { exitCosts } from '../src/spec/network-cost.ts';
import { BeeError } from '../src/errors.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { metaProblem } from '../src/model/model-check.ts';
import { buildNetwork, networkConfig } from '../src/model/network.ts';
import { readModelMeta, type ModelMeta } from '../src/model/saved-model.ts';
import { Listener } from '../src/stream/listener.ts';
import { parseTruthCsv, scoreStream } from '../src/stream/score.ts';
import { feedPcm, feedWavFile } from '../src/stream/sources.ts';
import { tempDir } from './helpers/datasets.ts';
import { encodeWav } from './helpers/wav.ts';

const LIMITS = { numRuns: 1000, interruptAfterTimeLimit: 8000, seed: 20261201 } as const;

/** Runs `read`; a BeeError is a refusal, anything else thrown fails the property. */
function refusesOrReads<T>(read: () => T): T | BeeError {
  try {
    return read();
  } catch (err) {
    if (err instanceof BeeError) {
      assert.ok(!err.oneLine().includes('\n'), err.oneLine());
      return err;
    }
    throw err;
  }
}

/** Byte-level damage: flips, overwritten 32-bit fields (chunk sizes), cuts and insertions. */
const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 0x80000000), fc.nat()) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 1, max: 64 }) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
  let b = Uint8Array.from(bytes);
  for (const m of mutations) {
    if (b.length === 0) break;
    const at = m.at % b.length;
    if (m.kind === 'flip') b[at] = m.value;
    else if (m.kind === 'u32' && at + 4 <= b.length) new DataView(b.buffer).setUint32(at, m.value >>> 0, true);
    else if (m.kind === 'cut') b = b.subarray(0, at);
    else if (m.kind === 'insert') b = Uint8Array.from([...b.subarray(0, at), ...new Uint8Array(m.value).fill(at & 0xff), ...b.subarray(at)]);
  }
  return b;
}

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

let packed: Uint8Array;
before(async () => {
  await initBackend();
  const network = {
    ...networkConfig({ inputShape: [98, 64, 1], classes: 3, seed: 1, arch: 'bee', exitHead: { type: 'pooled', grid: [2, 2], hidden: 4 } }),
    filters: [4, 8, 8, 16],
  };
  const model = buildNetwork(network);
  packed = encodePacked(packModel(model, { labels: ['a', 'b', 'c'], features: PAPER_FEATURES, network } as ModelMeta).packed);
  model.dispose();
});

/** The packed bytes with a valid checksum again, so that the checks behind it are reached. */
function resealed(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 4) return bytes;
  const out = Uint8Array.from(bytes);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

test('fuzz: mutated packed models are refused in one line, or run to a valid answer', () => {
  const clip = Float32Array.from({ length: 98 * 64 }, (_, i) => Math.sin(i) * 4 - 6);
  fc.assert(
    fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.boolean(), (mutations, reseal) => {
      const bytes = mutate(packed, mutations);
      const model = refusesOrReads(() => decodePacked(reseal ? resealed(bytes) : bytes, 'x.bee'));
      if (model instanceof BeeError) return;
      const engine = new BlockEngine(model);
      const exit = engine.run(clip, neverEarly(engine.exits));
      assert.equal(exit, engine.exits);
      for (const p of engine.probabilities) assert.ok(p.every((x) => x >= 0 && x <= 1));
    }),
    LIMITS,
  );
});

test('fuzz: packed headers with random fields are refused in one line, or read', () => {
  const headerBytes = new DataView(packed.buffer).getUint32(8, true);
  const header = JSON.parse(new TextDecoder().decode(packed.subarray(16, 16 + headerBytes)));
  const field = fc.constantFrom('labels', 'features', 'network', 'temperatures', 'data', 'beeVersion');
  const networkField = fc.constantFrom('inputShape', 'classes', 'filters', 'exitHead', 'realFirstBlock');
  fc.assert(
    fc.property(field, networkField, fc.jsonValue({ maxDepth: 3 }), fc.boolean(), (key, networkKey, value, inNetwork) => {
      const changed = structuredClone(header);
      if (inNetwork) changed.network[networkKey] = value;
      else changed[key] = value;
      const json = new TextEncoder().encode(JSON.stringify(changed));
      const bodyStart = 16 + Math.ceil(headerBytes / 16) * 16;
      const file = new Uint8Array(16 + Math.ceil(json.length / 16) * 16 + (packed.length - bodyStart));
      file.set(packed.subarray(0, 16));
      new DataView(file.buffer).setUint32(8, json.length, true);
      file.set(json, 16);
      file.set(packed.subarray(bodyStart), 16 + Math.ceil(json.length / 16) * 16);
      refusesOrReads(() => decodePacked(resealed(file), 'x.bee'));
    }),
    LIMITS,
  );
});

test('fuzz: random model metadata: bee.json is refused in one line, or described by a valid network', () => {
  const dir = tempDir();
  const good = {
    format: 'bee-model',
    formatVersion: 2,
    beeVersion: '0.2.0',
    labels: ['a', 'b', 'c'],
    features: PAPER_FEATURES,
    network: networkConfig({ inputShape: [98, 64, 1], classes: 3 }),
    versions: {},
  };
  const anyValue = fc.oneof(fc.jsonValue({ maxDepth: 2 }), fc.constantFrom(NaN, Infinity, -1, 0, 1e9, 4097, [], {}, null));
  const paths = fc.constantFrom(
    'labels',
    'features',
    'network',
    'calibration',
    'formatVersion',
    'features.melBins',
    'features.fftLength',
    'features.sampleRate',
    'network.filters',
    'network.exitHead',
    'network.exitHead.grid',
    'network.exitHead.hidden',
    'network.bnMomentum',
    'network.classes',
    'network.precision',
    'network.seed',
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(paths, anyValue), { minLength: 1, maxLength: 3 }), (edits) => {
      const meta = structuredClone(good) as Record<string, any>;
      for (const [at, value] of edits) {
        const keys = at.split('.');
        let node = meta;
        for (const k of keys.slice(0, -1)) node = typeof node[k] === 'object' && node[k] !== null ? node[k] : (node[k] = {});
        node[keys.at(-1)!] = value;
      }
      assert.doesNotThrow(() => metaProblem(meta));
      fs.writeFileSync(path.join(dir, 'bee.json'), JSON.stringify(meta));
      const read = refusesOrReads(() => readModelMeta(dir));
      if (read instanceof BeeError) return;
      assert.equal(metaProblem(read), undefined);
      assert.equal(read.network.classes, read.labels.length);
    }),
    { ...LIMITS, numRuns: 300 },
  );
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

test('fuzz: random truth files are refused in one line, or scored within bounds', () => {
  const row = fc.oneof(
    fc
      .tuple(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }), fc.constantFrom('yes', 'no', '_unknown_', 'YES', 'x'))
      .map(([s, d, l]) => `${s},${s + d},${l}`),
    fc.string({ maxLength: 30 }),
    fc.constantFrom('', ' ', '\r', '1,2', '1,2,3,4', 'nan,1,yes', '-1,2,yes', '2,1,yes', '1e400,1e401,yes', '0x1,2,yes', '\ufeffstart,end,label'),
  );
  const detection = fc.record({
    time: fc.double({ min: -5, max: 120, noNaN: true }),
    label: fc.constantFrom('yes', 'no', 'x'),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    exit: fc.integer({ min: 1, max: 4 }),
  });
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.array(row, { maxLength: 20 }),
      fc.array(detection, { maxLength: 20 }),
      fc.oneof(fc.constant(0), fc.double({ min: 1 / 16000, max: 1e6, noNaN: true })), // the durations a stream has
      (header, rows, detections, duration) => {
        const text = `${header ? 'start,end,label\n' : ''}${rows.join(rows.length % 2 ? '\r\n' : '\n')}`;
        const truth = refusesOrReads(() => parseTruthCsv(text, 'truth.csv'));
        if (truth instanceof BeeError) return;
        const sorted = [...detections].sort((a, b) => a.time - b.time);
        const s = scoreStream(sorted, truth, duration, (l) => l !== '_unknown_');
        assert.ok(s.hits >= 0 && s.hits <= s.words && s.misses === s.words - s.hits);
        assert.ok(s.falseAlarms >= 0 && s.falseAlarms + s.hits === sorted.length);
        assert.ok(Number.isFinite(s.falseAlarmsPerHour) && s.hitRate >= 0 && s.hitRate <= 1);
      },
    ),
    LIMITS,
  );
});
