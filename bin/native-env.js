// Runs a Node.js entry point in a child process tuned for native TensorFlow.
// - glibc malloc keeps big blocks on the heap: TensorFlow allocates and frees large tensors every
//   step, and with mmap'd blocks each one is a fresh page-faulted mapping, which makes training ~3x
//   slower. glibc reads these variables only at process start, hence the child process.
// - TensorFlow writes a few informational lines to stderr while it loads, before its logging is
//   configured, so TF_CPP_MIN_LOG_LEVEL cannot silence them; the parent drops them from the stream.
import { spawn } from 'node:child_process';

export const NATIVE_ENV = {
  MALLOC_MMAP_MAX_: '0',
  MALLOC_TRIM_THRESHOLD_: String(8 * 1024 ** 3),
  MALLOC_TOP_PAD_: String(256 * 1024 ** 2),
  TF_CPP_MIN_LOG_LEVEL: '3',
};

const NOISE = [
  /^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR$/,
  /^I0000 \S+ +\d+ (port|cpu_feature_guard)\.cc:\d+\] /,
  /^To enable the following instructions: .* in other operations, rebuild TensorFlow/,
];
const couldBeNoise = (partial) => /^(W(A(R(N(I(N(G(:.*)?)?)?)?)?)?)?|I(0(0(0(0( .*)?)?)?)?)?|T(o( .*)?)?)$/.test(partial);

export function alreadyTuned(env = process.env) {
  return env.BEE_LAUNCHED === '1';
}

/** Copies the child's stderr to ours without TensorFlow's start-up lines; partial lines pass at once. */
function filterStderr(stream) {
  let held = ''; // the start of a line that may still turn out to be noise
  let passing = false; // inside a line already judged not to be noise
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    let out = '';
    let text = held + chunk;
    held = '';
    while (text) {
      const nl = text.indexOf('\n');
      const line = nl < 0 ? text : text.slice(0, nl + 1);
      text = nl < 0 ? '' : text.slice(nl + 1);
      if (passing) out += line;
      else if (nl < 0 && couldBeNoise(line)) held = line;
      else if (!NOISE.some((re) => re.test(line.replace(/\r?\n$/, '')))) out += line;
      passing = nl < 0 && !held;
    }
    if (out) process.stderr.write(out);
  });
  stream.on('end', () => held && process.stderr.write(held));
}

/**
 * A reader that goes away (`bee ... | head -1`) ends bee quietly, as Unix tools end on SIGPIPE:
 * no stack trace of the failed write, exit code 0. `stop` ends what still writes.
 */
export function endQuietlyOnClosedStdout(stop = () => {}) {
  process.stdout.on('error', (err) => {
    if (err.code !== 'EPIPE') throw err;
    stop();
    process.exit(0);
  });
}

/** Re-runs `node [nodeArgs...]` with NATIVE_ENV and mirrors its exit status. */
export function relaunch(nodeArgs) {
  const env = { ...NATIVE_ENV, ...process.env, BEE_LAUNCHED: '1' };
  // The child's stderr is a pipe: tell it whether ours is a terminal (progress bars) and how wide.
  if (process.stderr.isTTY) env.BEE_STDERR_COLUMNS = String(process.stderr.columns || 80);
  // stdout goes through the parent too, so that it stays in order with the filtered stderr.
  const child = spawn(process.execPath, nodeArgs, { stdio: ['inherit', 'pipe', 'pipe'], env });
  child.stdout.pipe(process.stdout);
  endQuietlyOnClosedStdout(() => child.kill('SIGTERM'));
  filterStderr(child.stderr);
  // Signals are passed on. A terminal's Ctrl-C reaches the child directly too (same process group),
  // so it may see SIGINT twice within milliseconds; bee's handlers treat that as one.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('close', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
  child.on('error', (err) => {
    console.error(`bee: cannot start ${process.execPath}: ${err.message}`);
    process.exit(1);
  });
}
