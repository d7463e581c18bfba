import type { EpochRecord } from '../train/run-options.js';

/** A fraction as a percentage with one decimal, without the sign. */
export const pct = (x: number) => `${(100 * x).toFixed(1)}`;

/** Each exit's accuracy, as percentages. */
export const accs = (a: number[]) => a.map(pct).join(' ');

/** One line per epoch: loss, accuracy of each exit on train and validation, speed (bee train's and bee demo's). */
export function epochLine(r: EpochRecord, epochs: number): string {
  const v = r.validation ? `  val acc ${accs(r.validation.accuracy)}` : '';
  return `epoch ${r.epoch}/${epochs}  loss ${r.train.loss.toFixed(3)}  train acc ${accs(r.train.accuracy)}${v}  ${r.examplesPerSecond.toFixed(0)} ex/s  ${r.seconds.toFixed(0)} s${r.best ? '  *best' : ''}`;
}
