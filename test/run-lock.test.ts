// The run directory lock.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { lockDirectory } from '../src/util/run-lock.ts';
import { tempDir } from './helpers/datasets.ts';
import { deadPid } from './helpers/processes.ts';

// A regression test from the hostile-input pass (issue 11).
test('run directory lock: one holder; a live PID refuses, a dead one is cleared', () => {
  const dir = tempDir();
  const release = lockDirectory(dir);
  assert.throws(() => lockDirectory(dir), /in use by this process already/);
  release();
  const sleeper = spawn('sleep', ['30']);
  try {
    fs.writeFileSync(path.join(dir, '.lock'), `${sleeper.pid}\n`);
    assert.throws(() => lockDirectory(dir), new RegExp(`is in use by another bee process \\(PID ${sleeper.pid}\\)`));
  } finally {
    sleeper.kill();
  }
  fs.writeFileSync(path.join(dir, '.lock'), `${deadPid()}\n`);
  lockDirectory(dir)();
  assert.ok(!fs.existsSync(path.join(dir, '.lock')));
  fs.writeFileSync(path.join(dir, '.lock'), '');
  lockDirectory(dir)(); // a lock holding no PID has no owner to wait for
  fs.mkdirSync(path.join(dir, '.lock'));
  assert.throws(() => lockDirectory(dir), /\.lock: cannot read the lock: EISDIR/);
  assert.deepEqual(fs.readdirSync(dir), ['.lock'], 'no temporary files left behind');
});
