import { BeeError } from '../errors.js';
import { decimal } from '../util/decimal.js';
import type { Detection } from './detector.js';

/** A word in a stream: when it is (s) and what it is; `bee data stream` writes them as CSV. */
export interface TruthEvent {
  start: number;
  end: number;
  label: string;
}

/** A detection counts for a word from the word's start until this long after its end (the last window that holds it ends up to 1 s later). */
export const HIT_TOLERANCE_S = 1;

export interface StreamScore {
  /** the words that could be reported (labels not ignored) */
  words: number;
  hits: number;
  misses: number;
  falseAlarms: number;
  hitRate: number;
  falseAlarmsPerHour: number;
  /** mean time from a word's start to its detection */
  meanDelayMs: number | null;
}

/** Parses a truth CSV: a `start,end,label` header, then one word a line (seconds). */
export function parseTruthCsv(text: string, file: string): TruthEvent[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  if (lines[0]?.trim() !== 'start,end,label')
    throw new BeeError('not a truth file: the first line must be start,end,label', { file, hint: 'bee data stream writes one' });
  return lines.slice(1).map((line, i) => {
    const [start, end, rawLabel] = line.split(',');
    const label = rawLabel?.trim();
    const [s, e] = [decimal(start ?? ''), decimal(end ?? '')];
    if (!(Number.isFinite(s) && Number.isFinite(e) && s >= 0 && e >= s && label))
      throw new BeeError(`line ${i + 2}: expected start,end,label with 0 <= start <= end (seconds)`, { file });
    return { start: s, end: e, label };
  });
}

/**
 * Matches detections to words, in time order: a detection is a hit when it names a word not yet
 * hit whose span [start, end + HIT_TOLERANCE_S] holds its time; every other detection is a false
 * alarm. Words whose label is never reported are not counted.
 */
export function scoreStream(detections: Detection[], truth: TruthEvent[], durationSeconds: number, reportable: (label: string) => boolean): StreamScore {
  const words = truth.filter((t) => reportable(t.label));
  const hit = new Array<boolean>(words.length).fill(false);
  let falseAlarms = 0;
  let delay = 0;
  for (const d of detections) {
    const i = words.findIndex((w, k) => !hit[k] && w.label === d.label && d.time >= w.start && d.time <= w.end + HIT_TOLERANCE_S);
    if (i < 0) {
      falseAlarms++;
      continue;
    }
    hit[i] = true;
    delay += d.time - words[i].start;
  }
  const hits = hit.filter(Boolean).length;
  return {
    words: words.length,
    hits,
    misses: words.length - hits,
    falseAlarms,
    hitRate: words.length ? hits / words.length : 0,
    falseAlarmsPerHour: durationSeconds > 0 ? (falseAlarms * 3600) / durationSeconds : 0,
    meanDelayMs: hits ? (1000 * delay) / hits : null,
  };
}
