/** The classes of what is not a keyword: background (no speech), and speech that is none of the keywords. */
export const SILENCE = '_silence_';
export const UNKNOWN = '_unknown_';
export const QUIET_LABELS = [SILENCE, UNKNOWN];

/**
 * What is wrong with a saved model's labels, if anything: two or more different, non-empty
 * strings, with no control character (a label is printed to terminals as it is: an escape
 * sequence or a newline in a crafted file would reach them raw).
 */
export function labelsProblem(labels: unknown): string | undefined {
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((l) => typeof l === 'string' && l !== '') || new Set(labels).size !== labels.length)
    return 'labels must be two or more different strings';
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the control characters are what is refused
  if (labels.some((l) => /[\u0000-\u001f\u007f-\u009f]/.test(l))) return 'labels must not hold control characters (escapes, newlines)';
  return undefined;
}

/**
 * The softmax temperatures a model may carry: calibration fits them in [0.05, 20]; far outside,
 * logits / T overflow or vanish and the softmax turns to NaN (1e-320 is a float, not a temperature).
 */
export const TEMPERATURE_RANGE = [1e-3, 1e3];
export const temperatureFits = (t: unknown) => typeof t === 'number' && t >= TEMPERATURE_RANGE[0] && t <= TEMPERATURE_RANGE[1];
