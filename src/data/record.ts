const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * What is wrong with the data record a saved model carries (bee.json's or the .bee header's
 * `data`: what it was trained on, which evaluation defaults to), if anything: read from a file
 * someone may have edited, it is checked where it is read, not where a flag would be blamed.
 */
export function dataRecordProblem(data: unknown): string | undefined {
  if (!(isObject(data) && typeof data.root === 'string' && isObject(data.split) && typeof data.classSet === 'string'))
    return 'data must hold root, split and classSet';
  const { method, salt, validationPercent: v, testPercent: t } = data.split;
  if (!(method === 'lists' || method === 'hash') || (salt !== undefined && typeof salt !== 'string'))
    return 'data.split.method must be lists or hash, and its salt a string';
  if (!(typeof v === 'number' && typeof t === 'number' && v >= 0 && t >= 0 && v + t <= 100))
    return 'data.split must hold validationPercent and testPercent, numbers >= 0 that sum to at most 100';
  return undefined;
}
