import type { Architecture } from './architecture.js';
import type { ArchName } from '../../spec/families.js';
import { bee } from './bee.js';
import { bireal } from './bireal.js';
import { reactnet } from './reactnet.js';
import { xnor } from './xnor.js';

export type { Apply, Architecture } from './architecture.js';

export { ARCH_NAMES, type ArchName } from '../../spec/families.js';

/** The families `bee train --arch` builds; docs/recipe.md's comparison says which to pick for what. */
export const ARCHITECTURES: Record<ArchName, Architecture> = { bee, xnor, bireal, reactnet };
