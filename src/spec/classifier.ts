import type { ExitRule } from './exit-rules.js';

/** Many clips' features in one array, a row a clip (the feature cache's FeatureTable is one). */
export interface FeatureRows {
  features: Float32Array;
  frames: number;
  melBins: number;
}

/** The features of row `row` of a table. */
export function featuresOf(table: FeatureRows, row: number): Float32Array {
  const size = table.frames * table.melBins;
  return table.features.subarray(row * size, (row + 1) * size);
}

export interface EarlyExitResult {
  /** 1-based exit that answered */
  exit: number;
  /** softmax of every exit that ran, in order */
  probs: Float32Array[];
  /** wall time of the path, features to decision, in ms */
  ms: number;
}

/**
 * What early-exit evaluation and prediction need of a model: the tfjs model cut into stages
 * (TfjsClassifier) and the packed engine (PackedEngine) are both one.
 */
export interface EarlyExitClassifier {
  readonly exits: number;
  /** softmax temperature of each exit (1: as trained; `bee sweep --calibrate` fits them) */
  temperatures: number[];
  /** One clip's features (frames x mel bins, row-major), batch size one, block by block until the rule says stop. */
  classify(features: Float32Array, rule: ExitRule): EarlyExitResult;
  /** Every exit's softmax (or logits, before the temperature) on rows of a feature table, the full network: [exit][row * classes]. */
  exitOutputs(table: FeatureRows, rows: number[], what?: 'softmax' | 'logits'): Float32Array[];
  dispose(): void;
}

/** Concatenates per-batch outputs, [batch][exit], into one array per exit. */
export function joinExitOutputs(parts: Float32Array[][], exits: number): Float32Array[] {
  return Array.from({ length: exits }, (_, k) => {
    const joined = new Float32Array(parts.reduce((n, p) => n + p[k].length, 0));
    let offset = 0;
    for (const p of parts) {
      joined.set(p[k], offset);
      offset += p[k].length;
    }
    return joined;
  });
}
