import cliProgress from 'cli-progress';
import { type BackendInfo } from '../backend/backend.js';

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

/** Whether stderr ends at a terminal; the launcher pipes it and says so in BEE_STDERR_COLUMNS. */
function stderrColumns(): number | undefined {
  if (process.stderr.isTTY) return process.stderr.columns;
  const piped = Number(process.env.BEE_STDERR_COLUMNS);
  return piped > 0 ? piped : undefined;
}

/** A progress bar on stderr, drawn only on a terminal (so logs and CI output stay clean). */
export function progressBar(label: string, total: number, extra = ''): Progress {
  const columns = stderrColumns();
  if (!columns) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {value}/{total} {percentage}% | ETA {eta_formatted}${extra}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      noTTYOutput: true, // stderr may be the launcher's pipe to a terminal
      linewrap: false,
      barsize: Math.max(10, Math.min(40, columns - 60)),
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  return { update: (done, payload) => bar.update(done, payload), stop: () => bar.stop() };
}
