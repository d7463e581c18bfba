const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/**
 * A number as written in decimal, or NaN: unlike Number(), '' is not 0, '0x10' is not 16, and
 * '1e309' is not a number either (it is Infinity).
 */
export function decimal(value: string): number {
  const text = value.trim();
  // biome-ignore lint/plugin: the one Number() of text, after the pattern has checked it
  const n = DECIMAL.test(text) ? Number(text) : NaN;
  return Number.isFinite(n) ? n : NaN;
}
