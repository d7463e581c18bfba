import { ARCH_NAMES, type ArchName, type Body, FAMILIES, type Family } from '../../spec/families.js';
import type { Architecture } from './architecture.js';
import { blockArchitecture } from './block.js';
import { residualArchitecture } from './residual.js';

export type { Apply, Architecture } from './architecture.js';

const BODIES: Record<Body, (family: Family) => Architecture> = { block: blockArchitecture, residual: residualArchitecture };

/** The families `bee train --arch` builds; docs/recipe.md's comparison says which to pick for what. */
export const ARCHITECTURES = Object.fromEntries(ARCH_NAMES.map((name) => [name, BODIES[FAMILIES[name].body](FAMILIES[name])])) as Record<
  ArchName,
  Architecture
>;
