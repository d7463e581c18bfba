// Fuzzing bee's readers with fast-check (test/wav, format, model-check, sources and score): each reader
// must return a valid result or throw bee's one-line error: no other exception, no hang, no
// allocation beyond what the input's own size allows. Every property is bounded in time.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { initBackend } from '../../src/backend/backend.ts';
import { packModel } from '../../src/convert/pack.ts';
import { encodePacked } from '../../src/engine/format.ts';
import { BeeError } from '../../src/errors.ts';
import { PAPER_FEATURES } from '../../src/features/params.ts';
import { buildNetwork, networkConfig } from '../../src/model/network.ts';
import type { ModelMeta } from '../../src/model/saved-model.ts';

export const LIMITS = { numRuns: 1000, interruptAfterTimeLimit: 8000, seed: 20261201 } as const;

/** Runs `read`; a BeeError is a refusal, anything else thrown fails the property. */
export function refusesOrReads<T>(read: () => T): T | BeeError {
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
export const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('u32' as const), at: fc.nat(), value: fc.oneof(fc.constantFrom(0, 1, 0xffffffff, 0x7fffffff, 0x80000000), fc.nat()) }),
  fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), value: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 1, max: 64 }) }),
);
export type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

export function mutate(bytes: Uint8Array, mutations: Mutation[]): Uint8Array {
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

/** The fuzz network (3 classes a, b, c; small stages, a pooled exit head) packed: the bytes of its .bee file. */
export async function packedFuzzModel(): Promise<Uint8Array> {
  await initBackend();
  const network = {
    ...networkConfig({ inputShape: [98, 64, 1], classes: 3, seed: 1, arch: 'bee', exitHead: { type: 'pooled', grid: [2, 2], hidden: 4 } }),
    filters: [4, 8, 8, 16],
  };
  const model = buildNetwork(network);
  const packed = encodePacked(packModel(model, { labels: ['a', 'b', 'c'], features: PAPER_FEATURES, network } as ModelMeta).packed);
  model.dispose();
  return packed;
}
