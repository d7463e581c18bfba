// The packed model format: decodePacked on mutated files and on headers with random fields (fuzzing,
// helpers/fuzz.ts): each is refused in one line, or read to a model that runs to a valid answer.
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import fc from 'fast-check';
import { BlockEngine } from '../src/engine/block-engine.ts';
import { crc32 } from '../src/engine/crc32.ts';
import { decodePacked } from '../src/engine/format.ts';
import { BeeError } from '../src/errors.ts';
import { neverEarly } from '../src/spec/exit-rules.ts';
import { LIMITS, mutate, mutation, packedFuzzModel, refusesOrReads } from './helpers/fuzz.ts';

let packed: Uint8Array;
before(async () => {
  packed = await packedFuzzModel();
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
