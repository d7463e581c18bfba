// bee listen's memory on hours of audio: writes a WAV of --hours (default 10: 1.1 GiB, written a
// block at a time, never held in memory), runs `bee listen` on it and prints the listener's peak
// resident memory (VmHWM from /proc, polled) and its real-time factor.
//
//   node --import tsx scripts/bench-listen-memory.ts [--hours 10] [--model FILE.bee] [--keep]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { WavFileWriter } from '../src/audio/wav.ts';
import { mulberry32 } from '../src/util/rng.ts';
import { decimal } from '../src/util/decimal.ts';

const { values } = parseArgs({ options: { hours: { type: 'string', default: '10' }, model: { type: 'string' }, keep: { type: 'boolean' } } });
const hours = decimal(values.hours!);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-listen-memory-'));
const wav = path.join(dir, 'long.wav');

// Noise with a tone burst every few seconds: windows of every kind, written 10 s at a time.
const rate = 16000;
const writer = new WavFileWriter(wav, rate);
const rng = mulberry32(1);
const block = new Float32Array(10 * rate);
for (let done = 0; done < hours * 3600 * rate; done += block.length) {
  for (let i = 0; i < block.length; i++) {
    const t = done + i;
    const burst = t % (3 * rate) < 0.4 * rate ? 0.2 * Math.sin((2 * Math.PI * 700 * t) / rate) : 0;
    block[i] = 0.01 * (rng() - 0.5) + burst;
  }
  writer.write(block);
}
writer.finish();
writer.commit();
console.log(`wrote ${wav}: ${hours} h, ${(fs.statSync(wav).size / 2 ** 30).toFixed(2)} GiB`);

// The CLI itself (not through the launcher), so that /proc/PID is the listener's.
const main = path.resolve('dist/cli/main.js');
const args = [main, 'listen', wav, '--json', ...(values.model ? ['--model', values.model] : [])];
const started = performance.now();
const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, BEE_LAUNCHED: '1', TF_CPP_MIN_LOG_LEVEL: '3' } });
let out = '';
child.stdout.on('data', (b) => (out += b));
let peakKiB = 0;
const poll = setInterval(() => {
  try {
    const status = fs.readFileSync(`/proc/${child.pid}/status`, 'utf8');
    peakKiB = Math.max(peakKiB, Number.parseInt(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? '0', 10));
  } catch {
    // the process has ended
  }
}, 100);
const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
clearInterval(poll);
if (code !== 0) throw new Error(`bee listen exited with ${code}`);
const summary = JSON.parse(out.trim().split('\n').at(-1)!);
console.log(
  `bee listen on ${(summary.durationSeconds / 3600).toFixed(2)} h: peak RSS ${(peakKiB / 1024).toFixed(0)} MB, ` +
    `${summary.windows} windows, ${summary.realTimeFactor.toFixed(0)}x real time (features and network), ${((performance.now() - started) / 1000).toFixed(0)} s in all; CPU ${os.cpus()[0].model}`,
);
if (!values.keep) fs.rmSync(dir, { recursive: true, force: true });
