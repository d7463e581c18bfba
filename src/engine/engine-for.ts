import { type Body, familyOf } from '../spec/families.js';
import { BlockEngine } from './block-engine.js';
import type { PackedEngine } from './packed-engine.js';
import type { PackedModel } from './format.js';
import { ResidualEngine } from './residual-engine.js';

const BODY_ENGINES: Record<Body, new (model: PackedModel) => PackedEngine> = { block: BlockEngine, residual: ResidualEngine };

/** The engine that runs a packed network: its family's body decides (spec/families.ts). */
export const engineFor = (model: PackedModel): PackedEngine => new BODY_ENGINES[familyOf(model.header.network).body](model);
