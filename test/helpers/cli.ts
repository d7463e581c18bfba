// Running the bee CLI from tests.
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import path from 'node:path';

export const BEE = path.join(import.meta.dirname, '..', '..', 'bin', 'bee.js');

/** A function that runs bee (through its launcher) with `cache` as the feature cache. */
export function beeWithCache(cache: string): (...args: string[]) => SpawnSyncReturns<string> {
  return (...args) => spawnSync(process.execPath, [BEE, ...args], { encoding: 'utf8', env: { ...process.env, BEE_CACHE_DIR: cache } });
}

/** A failed command: a non-zero exit code, and stderr is one line that matches `pattern`. */
export function assertOneLineError(r: SpawnSyncReturns<string>, pattern: RegExp): void {
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, pattern);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
}
