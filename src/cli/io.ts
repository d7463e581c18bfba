import cliProgress from 'cli-progress';
import { Writable } from 'node:stream';
import type { BackendInfo } from '../backend/backend.js';
import { decimal } from '../util/decimal.js';

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/** A one-line notice on stderr, so that --json output on stdout stays parseable. */
export function notice(message: string): void {
  process.stderr.write(`bee: ${message}\n`);
}

export function backendNotice(info: BackendInfo): void {
  if (info.fallbackReason) notice(`running on the ${info.backend} backend, not native TensorFlow: ${info.fallbackReason}`);
}

export interface Progress {
  update(done: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

/**
 * stderr as a terminal, if it ends at one. The launcher passes our stderr through a pipe (to drop
 * TensorFlow's start-up lines) and says in BEE_STDERR_COLUMNS that a terminal of that width is behind it.
 */
function terminal(): NodeJS.WriteStream | undefined {
  if (process.stderr.isTTY) return process.stderr;
  const columns = decimal(process.env.BEE_STDERR_COLUMNS ?? '');
  if (!(columns > 0)) return undefined;
  // done() at once: a Writable queues writes until it is called, which would let direct writes to stderr overtake the bar's.
  const stream = new Writable({
    write: (chunk, _encoding, done) => {
      process.stderr.write(chunk);
      done();
    },
  });
  return Object.assign(stream, { isTTY: true, columns }) as unknown as NodeJS.WriteStream;
}

/** A progress bar on stderr, drawn only on a terminal (so logs and CI output stay clean). */
export function progressBar(label: string, total: number, extra = '', initial: Record<string, string> = {}): Progress {
  const stream = terminal();
  if (!stream) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted}${extra}`,
      stream,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      barsize: Math.max(10, Math.min(40, stream.columns - 60)),
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, initial); // the payload fields of `extra` show '-' until the first update
  const progress: Progress = {
    update: (done, payload) => bar.update(done, payload),
    stop: () => {
      if (!active.delete(progress)) return;
      bar.stop();
      stream.write('\r\x1b[2K'); // leave an empty line for whatever is printed next
    },
  };
  active.add(progress);
  return progress;
}

const active = new Set<Progress>();

/**
 * From now on, Ctrl-C (and the other `signals`) asks the long work to stop at its next safe point
 * (the returned function says whether it was asked; `onStop` is told at once, `message` printed)
 * and a second one quits at once. The launcher passes on the SIGINT the terminal also sent us, so
 * one Ctrl-C may arrive twice within milliseconds: that counts once.
 */
export function stopOnInterrupt(message?: string, onStop?: () => void, signals: NodeJS.Signals[] = ['SIGINT']): () => boolean {
  let requested = 0;
  const handler = () => {
    if (requested && Date.now() - requested > 500) process.exit(130);
    if (requested) return;
    requested = Date.now();
    if (message) notice(message);
    onStop?.();
  };
  for (const signal of signals) process.on(signal, handler);
  return () => requested > 0;
}

/** Stops every bar still drawing (an error cut its command short): its timer would keep the process alive, its cursor hidden. */
export function stopProgressBars(): void {
  for (const bar of [...active]) bar.stop();
}
