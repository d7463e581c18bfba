/** Everything that determines a clip's features; part of the feature cache's key and of a saved model. */
export interface FeatureParams {
  sampleRate: number;
  /** Samples per clip: shorter clips are centre zero-padded, longer ones centre-cropped. */
  clipSamples: number;
  frameLength: number;
  frameStep: number;
  fftLength: number;
  melBins: number;
  lowerHz: number;
  upperHz: number;
  /** log(mel + logOffset) */
  logOffset: number;
}

/** The paper's pipeline: 1 s at 16 kHz -> 98 x 64 log-mel frames. */
export const PAPER_FEATURES: Readonly<FeatureParams> = Object.freeze({
  sampleRate: 16000,
  clipSamples: 16000,
  frameLength: 400,
  frameStep: 160,
  fftLength: 1024,
  melBins: 64,
  lowerHz: 60,
  upperHz: 7800,
  logOffset: 1e-6,
});

export function frameCount(p: FeatureParams): number {
  return 1 + Math.floor((p.clipSamples - p.frameLength) / p.frameStep);
}

/** A stable string naming the parameters, for cache keys and model metadata. */
export function featureKey(p: FeatureParams): string {
  const keys = Object.keys(PAPER_FEATURES) as (keyof FeatureParams)[];
  return keys.map((k) => `${k}=${p[k]}`).join(',');
}
