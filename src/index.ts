// bee as a library: everything the CLI does, without the CLI.
export { BeeError } from './errors.js';
export { decodeWav, probeWav, probeWavFile, readWav, type Audio, type WavInfo } from './audio/wav.js';
export { resample } from './audio/resample.js';
export { featureKey, frameCount, PAPER_FEATURES, type FeatureParams } from './features/params.js';
export { fitToLength, LogMel, type Features } from './features/logmel.js';
export { featurizeClips } from './features/pool.js';
export { loadDataset, sharedSpeakers, type Clip, type Dataset, type LoadOptions } from './data/dataset.js';
export { speakerOf, splitOf, SPLITS, type SplitName, type SplitOptions } from './data/split.js';
export { summarizeDataset, type DatasetSummary } from './data/dataset-summary.js';
export { defaultCacheDir, loadFeatures, type FeatureTable } from './data/feature-cache.js';
export { ARCHIVES, downloadAndExtract } from './data/download.js';
export { initBackend, type BackendInfo, type BackendName } from './backend/backend.js';
export {
  approxSign,
  channelScale,
  magnitudeAwareSign,
  magnitudeAwareSignWith,
  quantizer,
  quantizerSpec,
  serializeQuantizer,
  steSign,
  steSignWith,
  swishSign,
  swishSignWith,
  type Quantizer,
  type QuantizerName,
  type QuantizerSpec,
} from './model/quantizers.js';
export { WeightClip } from './model/constraints.js';
export { QuantActivation, QuantConv2D, QuantDense } from './model/layers.js';
export { ExitPooling } from './model/exit-pooling.js';
export { BatchNorm } from './model/batch-norm.js';
export { buildNetwork, DEFAULT_NETWORK, layerName, networkConfig, PAPER_FILTERS } from './model/network.js';
export { LEGACY_NETWORK, type ExitHead, type NetworkConfig, type Precision } from './spec/network-config.js';
export { loadModelDir, readModelMeta, resolveModelDir, writeModelDir, type ModelMeta } from './model/saved-model.js';
export { train } from './train/trainer.js';
export type { EpochRecord, RunInput, RunOptions, TrainInput, TrainResult } from './train/run-options.js';
export { trainStep, type DistillOptions, type StepOptions } from './train/train-step.js';
export { distillationLoss, stopGradient } from './train/distill.js';
export { DEFAULT_RECIPE, defaultBatchSize, exitWeightsAt, learningRateAt, runLearningRate, type RecipeOptions, type Schedule } from './train/recipe.js';
export { exitMetrics, type ExitMetrics } from './train/exit-metrics.js';
export { DEFAULT_AUGMENT, DEFAULT_SPEC_AUGMENT, type AugmentOptions, type SpecAugmentOptions } from './data/augment.js';
export { modelCost, type ModelCost } from './model/costs.js';
export { exitCosts, type ExitCost } from './spec/network-cost.js';
export { ARCH_NAMES, FAMILIES, type ArchName, type Family } from './spec/families.js';
export { exitFor, neverEarly, parseThresholds, shouldExit, type Criterion, type ExitRule } from './spec/exit-rules.js';
export { featuresOf, type EarlyExitClassifier, type EarlyExitResult } from './spec/classifier.js';
export { TfjsClassifier } from './exits/tfjs-classifier.js';
export { evaluateEarlyExit, outcomesFromProbabilities } from './exits/evaluate.js';
export { openModel, ENGINES, type EngineName, type OpenedModel } from './exits/open-model.js';
export { decodePacked, encodePacked, packedSize, tensorSpecs, PACKED_VERSION, type PackedHeader, type PackedModel } from './engine/format.js';
export { packedHeader, packModel, type PackReport } from './convert/pack.js';
export { BlockEngine } from './engine/block-engine.js';
export { ResidualEngine } from './engine/residual-engine.js';
export { engineFor } from './engine/engine-for.js';
export { PackedEngine } from './engine/packed-engine.js';
export { readPackedFile, writePackedFile } from './engine/packed-file.js';
export { splitExamples, type SplitExamples } from './data/split-examples.js';
export { buildReport, type EarlyExitReport } from './exits/report.js';
export { sweep, sweepCsv, type SweepResult, type SweepRow } from './exits/sweep.js';
export { predictAudio, type Prediction } from './exits/predict.js';
export { tradeoffSvg } from './report/plot.js';
export { writeSweepFiles } from './report/sweep-files.js';
export { encodeWav, type WavSpec } from './audio/wav.js';
export { say, FLITE_VOICES, type FliteVoice, type SpeechOptions } from './audio/tts.js';
export {
  COMMAND_WORDS,
  DEFAULT_SYNTH,
  isSynthesized,
  readSynthManifest,
  synthesizeKeywords,
  UNKNOWN_WORDS,
  type SynthManifest,
  type SynthOptions,
} from './synth/keywords.js';
export { DEFAULT_DEMO, runDemo, type DemoOptions, type DemoResult } from './demo/demo.js';
export { WavFileReader, WavFileWriter } from './audio/wav.js';
export { StreamingResampler } from './audio/resample.js';
export { QUIET_LABELS, SILENCE, UNKNOWN } from './spec/labels.js';
export { Detector, type Detection, type DetectionRule, type WindowAnswer } from './stream/detector.js';
export { Listener, type ListenSummary } from './stream/listener.js';
export { feedPcm, feedWavFile, type StreamSink } from './stream/sources.js';
export { buildStream, DEFAULT_STREAM, truthCsv, type StreamOptions } from './stream/stream-writer.js';
export { DEFAULT_NEGATIVE_STREAM, writeNegativeStream, type NegativeStreamOptions } from './stream/negative-stream.js';
export { parseTruthCsv, scoreStream, type StreamScore, type TruthEvent } from './stream/score.js';
export { FIXED_FALSE_ALARM_RATES, hitRateAtFalseAlarms, streamRoc, type RocPoint } from './stream/roc.js';
export { defaultStreamRule, exitRuleOf, type StreamRule } from './spec/stream-rule.js';
export { detectionRuleOf } from './stream/detector.js';
export { PassRecorder, searchStreamRule, type CalibrationResult, type StreamPass } from './stream/rule-search.js';
export { calibrateOnValidation, type ValidationCalibrationOptions } from './stream/validation-calibration.js';
export { DEFAULT_TRANSFER, trainHeads, type TransferOptions, type TransferReport } from './transfer/custom-model.js';
export { augmentedExamples, customLabels, DEFAULT_FEW_SHOT_AUGMENT, type FewShotAugment, type FewShotExamples } from './transfer/examples.js';
export { DEFAULT_HEAD_FIT, fitHead, type HeadFitOptions, type HeadWeights } from './transfer/head-fit.js';
export { readExampleFolder, synthesizedUnknown } from './transfer/folder-examples.js';
export { wordWindows } from './transfer/word-windows.js';
