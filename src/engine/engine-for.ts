import { BlockEngine } from './block-engine.js';
import type { Engine } from './engine.js';
import { type PackedModel, residualOf } from './format.js';
import { ResidualEngine } from './residual-engine.js';

/** The engine that runs a packed network: the block engine (bee, xnor) or the residual one (bireal, reactnet). */
export function engineFor(model: PackedModel): Engine {
  return residualOf(model.header.network) ? new ResidualEngine(model) : new BlockEngine(model);
}
