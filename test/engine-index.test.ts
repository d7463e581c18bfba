// bee/engine (src/engine/index.ts) reads and runs a .bee file with TensorFlow absent from the module
// graph: a child process whose module hook fails on any @tensorflow/* (or TensorFlow-side bee module)
// loads the shipped model and spots a keyword, exit by exit.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';

const root = path.resolve(import.meta.dirname, '..');

test('the packed engine runs a .bee file without TensorFlow in the module graph', () => {
  const script = `
    const { engineFor, readPackedFile, readWav, LogMel, neverEarly } = await import('./src/engine/index.ts');
    const model = readPackedFile('data/pretrained/sc12.bee');
    const engine = engineFor(model);
    const audio = readWav('test/fixtures/yes-16k.wav');
    const features = new LogMel(model.header.features).compute(audio.samples).data;
    const exit = engine.run(features, neverEarly(engine.exits));
    const p = engine.probabilities[exit - 1];
    const best = p.indexOf(Math.max(...p));
    console.log(JSON.stringify({ exit, label: engine.labels[best] }));
  `;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--import', './test/helpers/forbid-tensorflow.mjs', '--input-type=module', '-e', script], {
    cwd: root,
    encoding: 'utf8',
  });
  assert.equal(r.status, 0, r.stderr);
  const { exit, label } = JSON.parse(r.stdout.trim().split('\n').at(-1)!);
  assert.equal(exit, 4, 'neverEarly runs every exit');
  assert.equal(label, 'yes');
});

test('the hook does catch TensorFlow: loading the TensorFlow side under it fails', () => {
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', '--import', './test/helpers/forbid-tensorflow.mjs', '--input-type=module', '-e', "await import('./src/model/network.ts')"],
    {
      cwd: root,
      encoding: 'utf8',
    },
  );
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /TensorFlow in the module graph: @tensorflow\/tfjs|TensorFlow-side module in the graph/);
});
