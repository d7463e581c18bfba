// Making directories.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { before, test } from 'node:test';
import { makeDir } from '../src/util/make-dir.ts';
import { assertOneLineError, BEE } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { toneData, toneRunFlags } from './helpers/tone-run.ts';

// A regression test from the hostile-input pass (issue 11), on the tone dataset (helpers/tone-run.ts).
const cache = tempDir('bee-cache-');
/** bee train's flags for a tiny run on the tone dataset. */
let TONE_RUN: string[];
before(async () => {
  TONE_RUN = toneRunFlags((await toneData(cache)).root);
});

test('directories bee cannot create give one line, never a spin (/proc/x)', { skip: !fs.existsSync('/proc/self') && 'no /proc here' }, () => {
  assert.throws(() => makeDir('/proc/bee-x/y', 'output directory'), /\/proc\/bee-x\/y: cannot create the output directory: ENOENT/);
  const file = path.join(tempDir(), 'a-file');
  fs.writeFileSync(file, 'x');
  assert.throws(() => makeDir(path.join(file, 'sub')), /a-file\/sub: cannot create the directory: ENOTDIR \(a part of the path is not a directory\)/);
  const args = [...TONE_RUN, '--epochs', '1', '--no-augment'];
  const timed = (...a: string[]) =>
    spawnSync(process.execPath, [BEE, ...a], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, BEE_CACHE_DIR: cache } });
  assertOneLineError(timed('train', ...args, '--out', '/proc/bee-x'), /\/proc\/bee-x: cannot create the output directory: ENOENT/);
  // The cache only saves time: a cache that cannot be made is a notice, and the work goes on.
  const cached = timed('train', ...args, '--cache', '/proc/bee-x', '--out', path.join(tempDir(), 'r'));
  assert.equal(cached.status, 0, cached.stderr);
  assert.match(cached.stderr, /feature cache not saved \(cannot create the feature cache: ENOENT/);
  const dangling = path.join(tempDir(), 'dangling');
  fs.symlinkSync(path.join(tempDir(), 'nowhere'), dangling);
  assert.throws(() => makeDir(dangling), /dangling: cannot create the directory: .*dangling is a symlink to nothing/);
});
