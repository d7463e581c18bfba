// Runs a Node.js entry point in a child process whose glibc malloc keeps big blocks on the heap.
// Native TensorFlow allocates and frees large tensors every step; with mmap'd blocks each one is
// a fresh page-faulted mapping, which makes training ~3x slower. glibc reads these variables only
// at process start, hence the child process.
import { spawn } from 'node:child_process';

export const NATIVE_ENV = {
  MALLOC_MMAP_MAX_: '0',
  MALLOC_TRIM_THRESHOLD_: String(8 * 1024 ** 3),
  MALLOC_TOP_PAD_: String(256 * 1024 ** 2),
  TF_CPP_MIN_LOG_LEVEL: '2',
};

export function alreadyTuned(env = process.env) {
  return env.BEE_LAUNCHED === '1';
}

/** Re-runs `node [nodeArgs...]` with NATIVE_ENV and mirrors its exit status. */
export function relaunch(nodeArgs) {
  const env = { ...NATIVE_ENV, ...process.env, BEE_LAUNCHED: '1' };
  const child = spawn(process.execPath, nodeArgs, { stdio: 'inherit', env });
  // Ctrl-C reaches the child through the terminal's process group; the parent only waits for it.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => { if (sig !== 'SIGINT') child.kill(sig); });
  }
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    }
    else process.exit(code ?? 1);
  });
  child.on('error', (err) => {
    console.error(`bee: cannot start ${process.execPath}: ${err.message}`);
    process.exit(1);
  });
}
