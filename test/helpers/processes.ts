// Processes for the tests of locks and temporary files.
import { spawnSync } from 'node:child_process';

/** The PID of a process that has exited: no process holds it now. */
export function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
  return Number.parseInt(child.stdout.trim(), 10);
}
