// Atomic writes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic } from '../src/util/atomic.ts';
import { tempDir } from './helpers/datasets.ts';
import { deadPid } from './helpers/processes.ts';

// A regression test from the hostile-input pass (issue 11).
test('temporary files of killed writers are removed at the next write; live writers are left alone', () => {
  const dir = tempDir();
  const target = path.join(dir, 'features.f32');
  const dead = path.join(dir, `.features.f32.${deadPid()}.tmp`);
  const deadDir = path.join(dir, `.features.f32.tmp-${deadPid()}`);
  const live = path.join(dir, `.features.f32.${process.ppid}.tmp`);
  for (const f of [dead, live]) fs.writeFileSync(f, 'x');
  fs.mkdirSync(deadDir);
  writeFileAtomic(target, 'new');
  assert.ok(!fs.existsSync(dead) && !fs.existsSync(deadDir));
  assert.ok(fs.existsSync(live));
  assert.equal(fs.readFileSync(target, 'utf8'), 'new');
});
