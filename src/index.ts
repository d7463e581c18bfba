// bee as a library: everything the CLI does, without the CLI.
export { BeeError } from './errors.js';
export { decodeWav, probeWav, probeWavFile, readWav, type Audio, type WavInfo } from './audio/wav.js';
export { resample } from './audio/resample.js';
export { featureKey, frameCount, PAPER_FEATURES, type FeatureParams } from './features/params.js';
export { fitToLength, LogMel, type Features } from './features/logmel.js';
export { featurizeClips } from './features/pool.js';
export { loadDataset, sharedSpeakers, type Clip, type Dataset, type LoadOptions } from './data/dataset.js';
export { speakerOf, splitOf, SPLITS, type SplitName, type SplitOptions } from './data/split.js';
export { summarizeDataset, type DatasetSummary } from './data/summary.js';
export { defaultCacheDir, loadFeatures, type FeatureTable } from './data/feature-cache.js';
export { ARCHIVES, downloadAndExtract } from './data/download.js';
export { initBackend, type BackendInfo, type BackendName } from './backend/backend.js';
