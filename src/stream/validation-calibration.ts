import type { Dataset } from '../data/dataset.js';
import type { EarlyExitClassifier } from '../spec/classifier.js';
import type { FeatureParams } from '../features/params.js';
import { PassRecorder, type SearchResult, searchStreamRule, type StreamPass } from './rule-search.js';
import { DEFAULT_NEGATIVE_STREAM, writeNegativeStream } from './negative-stream.js';
import { buildStream, DEFAULT_STREAM } from './stream-writer.js';

export interface ValidationCalibrationOptions {
  noiseFiles: string[];
  /** the negative stream's length */
  hours: number;
  /** false alarms an hour allowed on the negative stream */
  target: number;
  /** the most compute (a share of the full network's MACs) the rule may spend on the negative stream */
  maxCompute?: number;
  hopMs: number;
  seed: number;
  /** the negative stream's synthesized voices (default: its own) */
  voices?: number;
}

export interface ValidationCalibration {
  result: SearchResult | null;
  dense: StreamPass;
  negatives: StreamPass;
}

/**
 * Calibrates a model's stream rule on the validation split only: a dense stream of its clips over
 * the noise (as `bee data stream --split validation`) and a negative stream of its `_unknown_`
 * clips and synthesized sentences (as `--negatives`), both made in memory and fed to the full
 * network as bee listen feeds them; then searchStreamRule. No test-split clip is read.
 */
export function calibrateOnValidation(
  model: { classifier: Pick<EarlyExitClassifier, 'classify' | 'exits'>; labels: string[]; features: FeatureParams; exitCosts: number[] },
  dataset: Dataset,
  options: ValidationCalibrationOptions,
  onProgress?: (stage: 'dense' | 'negatives', done: number, total: number) => void,
): ValidationCalibration {
  const split = 'validation' as const;
  const step = (options.hopMs * model.features.sampleRate) / 1000;
  const denseRecorder = new PassRecorder(model.classifier, model.features, options.hopMs);
  const built = buildStream(dataset, { ...DEFAULT_STREAM, split, noiseFiles: options.noiseFiles, seed: options.seed, sampleRate: model.features.sampleRate });
  for (let at = 0; at < built.samples.length; at += step) {
    denseRecorder.push(built.samples.subarray(at, at + step));
    if ((at / step) % 600 === 0) onProgress?.('dense', at, built.samples.length);
  }
  const dense = denseRecorder.pass(built.truth);
  const negativeRecorder = new PassRecorder(model.classifier, model.features, options.hopMs);
  const truth = writeNegativeStream(
    dataset,
    {
      ...DEFAULT_NEGATIVE_STREAM,
      split,
      noiseFiles: options.noiseFiles,
      hours: options.hours,
      seed: options.seed,
      sampleRate: model.features.sampleRate,
      voices: options.voices ?? DEFAULT_NEGATIVE_STREAM.voices,
    },
    (block) => {
      for (let at = 0; at < block.length; at += step) negativeRecorder.push(block.subarray(at, at + step));
    },
    (done, total) => onProgress?.('negatives', done, total),
  );
  const negatives = negativeRecorder.pass(truth);
  return { result: searchStreamRule(model.labels, model.exitCosts, dense, negatives, options.target, options.maxCompute), dense, negatives };
}
