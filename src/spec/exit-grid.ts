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

/** Positions per cell of an h x w grid of positions split into grid[0] x grid[1] cells, row by row. */
export function cellSizes(h: number, w: number, grid: [number, number]): Float64Array {
  const sizes = new Float64Array(grid[0] * grid[1]);
  for (const r of cellOf(h, grid[0])) for (const c of cellOf(w, grid[1])) sizes[r * grid[1] + c]++;
  return sizes;
}

/** Statistics per channel: max, mean, then one per grid cell. */
export const pooledFeatures = (grid: [number, number]) => 2 + grid[0] * grid[1];
