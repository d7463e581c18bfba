// The packed engine on its own (`bee/engine`): reading .bee files and running them needs no TensorFlow.
export { decodePacked, encodePacked, tensorSpecs, PACKED_VERSION, type PackedHeader, type PackedModel } from './format.js';
export { readPackedFile, writePackedFile } from './packed-file.js';
export { BlockEngine } from './block-engine.js';
export { ResidualEngine } from './residual-engine.js';
export { engineFor } from './engine-for.js';
export { PackedEngine } from './packed-engine.js';
export { LogMel, type Features } from '../features/logmel.js';
export { readWav, decodeWav, type Audio } from '../audio/wav.js';
export { resample } from '../audio/resample.js';
export { neverEarly, type ExitRule } from '../spec/exit-rules.js';
