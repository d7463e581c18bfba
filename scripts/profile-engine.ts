// Where the packed engine's time goes: the time of every WebAssembly kernel call of one clip
// through the full network, per kernel and input size, averaged over --runs clips (log-mel-like
// noise: with no early exit, the work does not depend on the input).
//   node --import tsx scripts/profile-engine.ts --model runs/sc [--runs 200]
// Timing every call adds ~1 us per call (about 30 a clip); bench:engine measures without it.
import { parseArgs } from 'node:util';
import type { PackedModel } from '../src/engine/format.ts';
import { numberOption } from './number-option.ts';

const { values } = parseArgs({ options: { model: { type: 'string' }, runs: { type: 'string', default: '200' } } });
if (!values.model) throw new Error('usage: node --import tsx scripts/profile-engine.ts --model DIR|FILE.bee [--runs 200]');
const runs = numberOption(values.runs, '--runs', 'profile-engine');
const { engineFor } = await import('../src/engine/engine-for.ts');
const { readPackedFile, isPackedFile } = await import('../src/engine/packed-file.ts');
const { neverEarly } = await import('../src/spec/exit-rules.ts');
async function packedOf(file: string): Promise<PackedModel> {
  if (isPackedFile(file)) return readPackedFile(file);
  const { initBackend } = await import('../src/backend/backend.ts');
  const { loadModelDir } = await import('../src/model/saved-model.ts');
  const { packModel } = await import('../src/convert/pack.ts');
  await initBackend();
  const { model, meta } = await loadModelDir(file);
  return packModel(model, meta).packed;
}
const packed = await packedOf(values.model);
const engine = engineFor(packed);
// The kernels are a private field of both engines: wrap each export with a timer.
const target = engine as unknown as { kernels: Record<string, unknown> };
const times = new Map<string, number>();
const wrapped: Record<string, unknown> = {};
for (const [name, fn] of Object.entries(target.kernels)) {
  wrapped[name] =
    typeof fn !== 'function'
      ? fn
      : (...args: number[]) => {
          const t = performance.now();
          (fn as (...a: number[]) => void)(...args);
          const key = `${name}(${args[1]} x ${args[2]})`;
          times.set(key, (times.get(key) ?? 0) + performance.now() - t);
        };
}
target.kernels = wrapped;
const clip = Float32Array.from({ length: packed.header.network.inputShape[0] * packed.header.network.inputShape[1] }, () => -6 + 10 * Math.random());
const full = neverEarly(engine.exits);
for (let r = 0; r < 50; r++) engine.run(clip, full); // V8 tiers the WebAssembly up
times.clear();
const started = performance.now();
for (let r = 0; r < runs; r++) engine.run(clip, full);
const total = (performance.now() - started) / runs;
const arch = packed.header.network.arch ?? 'bee';
console.log(`${values.model} (${arch}): ${total.toFixed(3)} ms a clip, full network, ${runs} clips`);
for (const [key, ms] of times) console.log(`  ${key.padEnd(40)} ${(ms / runs).toFixed(3)} ms  ${((100 * ms) / runs / total).toFixed(1)}%`);
