import { InvalidArgumentError } from 'commander';

/** Commander argument parsers: a bad value fails with commander's own one-line error. */
export const wholeNumber = (min: number, max = Infinity) => (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number ${max < Infinity ? `in ${min}..${max}` : `>= ${min}`}`);
  return n;
};

export const positiveNumber = (value: string) => {
  const n = Number(value);
  if (!(n > 0 && Number.isFinite(n))) throw new InvalidArgumentError('expected a finite number > 0');
  return n;
};
