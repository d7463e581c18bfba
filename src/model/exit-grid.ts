/**
 * The pooled exit head's statistics, shared by the TensorFlow layer and the packed engine (no
 * TensorFlow here). Per channel of a block's output: the global max, the global mean, and the mean
 * of each cell of a coarse grid over time x frequency, in this order, each a run of C values.
 */

/** Where the parts of an axis of `size` positions split into `parts` cells: floor(i * size / parts), i = 0..parts. */
export function gridCuts(size: number, parts: number): number[] {
  if (!(Number.isInteger(parts) && parts >= 1 && parts <= size)) throw new RangeError(`cannot split ${size} positions into ${parts} cells`);
  return Array.from({ length: parts + 1 }, (_, i) => Math.floor((i * size) / parts));
}

/** For each position along an axis, the cell it falls in. */
export function cellOf(size: number, parts: number): Int32Array {
  const cuts = gridCuts(size, parts);
  const cells = new Int32Array(size);
  for (let c = 0; c < parts; c++) cells.fill(c, cuts[c], cuts[c + 1]);
  return cells;
}

/** Statistics per channel: max, mean, then one per grid cell. */
export const pooledFeatures = (grid: [number, number]) => 2 + grid[0] * grid[1];
