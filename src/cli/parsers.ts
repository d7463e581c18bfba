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
