import { InvalidArgumentError } from 'commander';
import { decimal } from '../util/decimal.js';

/** Commander argument parsers: a bad value fails with commander's own one-line error. */
export const wholeNumber =
  (min: number, max = Infinity) =>
  (value: string) => {
    const n = decimal(value);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new InvalidArgumentError(`expected a whole number ${max < Infinity ? `in ${min}..${max}` : `>= ${min}`}`);
    return n;
  };

export const positiveNumber = (value: string) => {
  const n = decimal(value);
  if (!(n > 0)) throw new InvalidArgumentError('expected a finite number > 0');
  return n;
};

export const nonNegative = (value: string) => {
  const n = decimal(value);
  if (!(n >= 0)) throw new InvalidArgumentError('expected a finite number >= 0');
  return n;
};

export const probability = (value: string) => {
  const n = positiveNumber(value);
  if (n > 1) throw new InvalidArgumentError('expected a number in (0, 1]');
  return n;
};

/** Hours of stream audio: a 16-bit WAV of 10 h is 1.1 GiB, and calibration keeps every window of them. */
export const streamHours = (value: string) => {
  const n = positiveNumber(value);
  if (n > 10) throw new InvalidArgumentError('expected at most 10 hours');
  return n;
};
