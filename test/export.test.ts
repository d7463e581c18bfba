// bee export: where it writes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { assertOneLineError, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { toneRun } from './helpers/tone-run.ts';

// A regression test from the hostile-input pass (issue 11), on a tiny trained run (helpers/tone-run.ts).
const cache = tempDir('bee-cache-');
const bee = beeWithCache(cache);
let run: string; // a trained run directory
before(async () => {
  ({ run } = await toneRun(cache));
});

test('bee export never writes over the model it reads, nor over a file that is not a .bee without --force', () => {
  const weights = path.join(run, 'best', 'weights.bin');
  const before = fs.readFileSync(weights);
  assertOneLineError(bee('export', '--model', run, '--out', weights), /weights\.bin: is part of the model being exported/);
  assertOneLineError(bee('export', '--model', run, '--out', weights, '--force'), /is part of the model being exported/);
  assertOneLineError(bee('export', '--model', run, '--out', path.join(run, 'best')), /is part of the model being exported/);
  assertOneLineError(bee('export', '--model', run, '--out', path.join(run, 'last', 'weights.bin'), '--force'), /is part of the model being exported/);
  assertOneLineError(bee('export', '--model', run, '--out', path.join(weights, 'x.bee')), /x\.bee: cannot write: ENOTDIR/);
  assert.deepEqual(fs.readFileSync(weights), before);
  const dir = tempDir();
  const notes = path.join(dir, 'notes.txt');
  fs.writeFileSync(notes, 'keep me');
  assertOneLineError(
    bee('export', '--model', run, '--out', notes),
    /notes\.txt: exists and is not a packed bee model: not overwriting it \(name a new file, or pass --force/,
  );
  assert.equal(fs.readFileSync(notes, 'utf8'), 'keep me');
  assert.equal(bee('export', '--model', run, '--out', notes, '--force').status, 0);
  const packed = path.join(dir, 'm.bee');
  assert.equal(bee('export', '--model', run, '--out', packed).status, 0);
  assert.equal(bee('export', '--model', run, '--out', packed).status, 0, 'replacing a .bee file is what export is for');
  assertOneLineError(bee('sweep', '--model', run, '--out', notes), /notes\.txt: cannot create the sweep directory: .*notes\.txt is not a directory/);
  const blocked = path.join(path.dirname(notes), 'blocked-sweep');
  fs.mkdirSync(path.join(blocked, 'sweep.json'), { recursive: true }); // a write there fails, as on a full or read-only disk
  assertOneLineError(
    bee('sweep', '--model', run, '--out', blocked),
    /sweep\.json: cannot write: EISDIR \(is a directory\) \(check free disk space and permissions/,
  );
  assertOneLineError(bee('summary', '--model', packed), /m\.bee: is a file; this needs a model directory/);
});
