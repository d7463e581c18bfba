import { PackedEngine } from './engine.js';
import type { ExitEngine } from './exit-engine.js';
import { type PackedModel, residualOf } from './format.js';
import { ResidualEngine } from './residual-engine.js';

/** A packed network ready to run: the bee engine (bee, xnor) or the residual one (bireal, reactnet), one interface. */
export type Engine = ExitEngine;

export function engineFor(model: PackedModel): Engine {
  return residualOf(model.header.network) ? new ResidualEngine(model) : new PackedEngine(model);
}
