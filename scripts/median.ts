/** The upper median of a sample (the middle element of the sorted copy). */
export function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[xs.length >> 1];
}
