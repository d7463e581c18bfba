import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/** Writes a file and flushes it to disk before returning. */
export function writeFileSynced(file: string, data: string | Uint8Array): void {
  const fd = fs.openSync(file, 'w');
  try {
    fs.writeFileSync(fd, data);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Whether a process of that PID is alive (EPERM: alive, someone else's). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The longest file name most file systems take, in bytes. */
const NAME_MAX = 255;

/**
 * What a temp file beside `target` starts with: `.NAME.`, or for a name too long to take the
 * dot, the PID and the suffix, `.HASH.` (a 12-digit hash of the name).
 */
function tempStem(target: string): string {
  const name = path.basename(target);
  const stem = `.${name}.`;
  if (Buffer.byteLength(stem) + `${2 ** 22}.tmp`.length <= NAME_MAX) return stem;
  return `.${createHash('sha1').update(name).digest('hex').slice(0, 12)}.`;
}

/** A temp file beside `target` for this process: `.NAME.PID.tmp` (see tempStem for long names). */
export function tempFileFor(target: string): string {
  return path.join(path.dirname(target), `${tempStem(target)}${process.pid}.tmp`);
}

/** A temp directory beside `target` for this process: `.NAME.tmp-PID`, renamed into place when whole. */
export function tempDirFor(target: string): string {
  return path.join(path.dirname(target), `${tempStem(target)}tmp-${process.pid}`);
}

/**
 * Removes what killed writes of `target` left beside it: `.NAME.PID.tmp` files and
 * `.NAME.tmp-PID` directories whose process is gone (a live writer's are left alone).
 */
export function removeStaleTemps(target: string): void {
  const dir = path.dirname(target);
  const prefix = tempStem(target);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = /^(?:(\d+)\.tmp|tmp-(\d+))$/.exec(name.slice(prefix.length));
    if (!pid) continue;
    const owner = Number.parseInt(pid[1] ?? pid[2], 10);
    if (owner !== process.pid && !processAlive(owner)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}

/**
 * Writes a file so that readers see the old content or the new, never a part: temp file, fsync,
 * rename. Temp files of earlier writers that were killed are removed first.
 */
export function writeFileAtomic(file: string, data: string | Uint8Array): void {
  removeStaleTemps(file);
  const tmp = tempFileFor(file);
  try {
    writeFileSynced(tmp, data);
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}
