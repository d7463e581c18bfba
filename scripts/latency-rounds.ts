// Full-network latency of several packed models measured round-robin in one process: each round
// runs every model over the same clips in turn, so that what the machine's neighbours do falls on
// all of them alike (on this shared VM one model's mean moves by up to 40% from one bench:engine
// run to the next, a memory-bound one most). Reports each model's median round mean, its range,
// and the median over rounds of its ratio to the first model's mean in the same round.
//   node --import tsx scripts/latency-rounds.ts --model A.bee --model B.bee [--rounds 10] [--split test] [--json]
// The first model's header names the data and split (as bench:engine reads bee.json).
import { parseArgs } from 'node:util';
import { loadRecordedDataset } from '../src/data/dataset.ts';
import { splitExamples } from '../src/data/split-examples.ts';
import { loadFeatures } from '../src/data/feature-cache.ts';
import { featuresOf } from '../src/spec/classifier.ts';
import { engineFor } from '../src/engine/engine-for.ts';
import { readPackedFile } from '../src/engine/packed-file.ts';
import { neverEarly } from '../src/spec/exit-rules.ts';
import { median } from './median.ts';
import { numberOption } from './number-option.ts';

const { values } = parseArgs({
  options: {
    model: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '10' },
    split: { type: 'string', default: 'test' },
    json: { type: 'boolean', default: false },
  },
});
const files = values.model ?? [];
if (files.length < 1)
  throw new Error('usage: node --import tsx scripts/latency-rounds.ts --model A.bee [--model B.bee ...] [--rounds 10] [--split test] [--json]');
const rounds = numberOption(values.rounds, '--rounds', 'latency-rounds');
const packed = files.map((file) => readPackedFile(file));
const { data, features: params } = packed[0].header;
if (!data) throw new Error(`${files[0]}: the header does not say what data the model was trained on`);
const dataset = loadRecordedDataset(data);
const table = await loadFeatures(dataset, { params });
const clips = splitExamples(table, packed[0].header.labels, values.split as 'test').rows.map((row) => featuresOf(table, row).slice());
const engines = packed.map((p) => engineFor(p));
const full = neverEarly(engines[0].exits);
// V8 tiers the kernels up only after they have run a while (bench:engine says more)
for (const engine of engines) for (let i = 0; i < 200; i++) engine.run(clips[i % clips.length], full);
const means = engines.map(() => [] as number[]);
for (let r = 0; r < rounds; r++) {
  engines.forEach((engine, m) => {
    const started = performance.now();
    for (const clip of clips) engine.run(clip, full);
    means[m].push((performance.now() - started) / clips.length);
  });
}
const result = files.map((file, m) => ({
  model: file,
  msMedian: median(means[m]),
  msMin: Math.min(...means[m]),
  msMax: Math.max(...means[m]),
  ratioToFirst: median(means[m].map((v, r) => v / means[0][r])),
}));
if (values.json) console.log(JSON.stringify({ clips: clips.length, rounds, models: result }, null, 2));
else {
  console.log(`${clips.length} clips of the ${values.split} split, full network, ${rounds} rounds`);
  for (const r of result)
    console.log(`${r.model}: ${r.msMedian.toFixed(3)} ms a clip (rounds ${r.msMin.toFixed(3)}-${r.msMax.toFixed(3)}), ${r.ratioToFirst.toFixed(2)}x the first`);
}
