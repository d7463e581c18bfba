// bee's one-line errors.
import assert from 'node:assert/strict';
import path from 'node:path';
import { test } from 'node:test';
import { readWav } from '../src/audio/wav.ts';
import { BeeError } from '../src/errors.ts';
import { tempDir } from './helpers/datasets.ts';

// A regression test from the hostile-input pass (issue 11).
test('one-line errors stay one line when a file name holds a line break', () => {
  const file = path.join(tempDir(), 'a\nb.wav');
  assert.throws(
    () => readWav(file),
    (err: unknown) => {
      assert.ok(err instanceof BeeError);
      assert.ok(!err.oneLine().includes('\n') && err.oneLine().includes('a\\nb.wav'), err.oneLine());
      return true;
    },
  );
});
