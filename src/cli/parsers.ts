import { InvalidArgumentError } from 'commander';
import { decimal } from '../util/decimal.js';
import { MAX_STAGES, stageWidthsFit } from '../spec/network-config.js';

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

/** One weight per exit, e.g. 1,1,1,1. */
export const exitWeightList = (value: string) => {
  const w = value.split(',').map(decimal);
  if (w.some((x) => !(x >= 0 && Number.isFinite(x)))) throw new InvalidArgumentError('expected one finite number >= 0 per exit, e.g. 1,1,1,1');
  return w;
};

/** The stages' output channels, e.g. 32,64,128,256. */
export const stageWidths = (value: string) => {
  const f = value.split(',').map(decimal);
  if (!stageWidthsFit(f))
    throw new InvalidArgumentError(
      `expected 1-${MAX_STAGES} comma-separated whole numbers in 1..4096 (each stage halves the 98 x 64 log-mel: ${MAX_STAGES} fit), e.g. 32,64,128,256`,
    );
  return f;
};

/** A BatchNorm momentum in [0, 1). */
export const momentum = (value: string) => {
  const n = decimal(value);
  if (!(n >= 0 && n < 1)) throw new InvalidArgumentError('expected a number in [0, 1), e.g. 0.9');
  return n;
};

/** An exit head's grid, ROWSxCOLUMNS. */
export const exitGrid = (value: string): [number, number] => {
  const m = /^(\d+)x(\d+)$/.exec(value);
  if (!m) throw new InvalidArgumentError('expected ROWSxCOLUMNS, e.g. 4x2');
  return [Number.parseInt(m[1], 10), Number.parseInt(m[2], 10)];
};

/** MIN,MAX decibels. */
export const decibelRange = (value: string): [number, number] => {
  const [low, high, ...rest] = value.split(',').map(decimal);
  if (rest.length || !(Number.isFinite(low) && Number.isFinite(high) && low <= high && high - low <= 100))
    throw new InvalidArgumentError('expected MIN,MAX decibels, e.g. -5,20');
  return [low, high];
};

/** A share of examples in [0, 1]. */
export const share = (value: string) => {
  const n = decimal(value);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('expected a number in [0, 1], e.g. 0.1');
  return n;
};

/** A speed spread in [0, 0.5]: clips played 0.5-1.5x as fast at most. */
export const speedSpread = (value: string) => {
  const n = decimal(value);
  if (!(n >= 0 && n <= 0.5)) throw new InvalidArgumentError('expected a share in [0, 0.5], e.g. 0.1 (0.9-1.1x as fast)');
  return n;
};

/** A time shift in [0, 0.5] s. */
export const shiftSeconds = (value: string) => {
  const n = decimal(value);
  if (!(n >= 0 && n <= 0.5)) throw new InvalidArgumentError('expected seconds in [0, 0.5], e.g. 0.1');
  return n;
};

/** A batch size, or 'auto' (the recipe's for the split's size). */
export const batchSizeOrAuto = (value: string) => (value === 'auto' ? 'auto' : wholeNumber(1)(value));

/** LABEL=WEIGHT,...: a weight on each named class's loss. */
export const classWeightMap = (value: string) => {
  const weights: Record<string, number> = {};
  for (const part of value.split(',')) {
    const at = part.lastIndexOf('=');
    const weight = at > 0 ? decimal(part.slice(at + 1)) : Number.NaN;
    if (!(weight > 0 && Number.isFinite(weight))) throw new InvalidArgumentError('expected LABEL=WEIGHT pairs, each weight > 0, e.g. _unknown_=2');
    weights[part.slice(0, at)] = weight;
  }
  return weights;
};
