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

/** What is wrong with feature parameters read from a file, if anything. */
export function featureParamsProblem(x: unknown): string | undefined {
  const keys = Object.keys(PAPER_FEATURES) as (keyof FeatureParams)[];
  if (
    typeof x !== 'object' ||
    x === null ||
    !keys.every((k) => typeof (x as FeatureParams)[k] === 'number' && (x as FeatureParams)[k] > 0 && Number.isFinite((x as FeatureParams)[k]))
  ) {
    return `features must hold ${keys.join(', ')}, all finite and > 0`;
  }
  const p = x as FeatureParams;
  const whole = ['sampleRate', 'clipSamples', 'frameLength', 'frameStep', 'fftLength', 'melBins'] as const;
  if (!whole.every((k) => Number.isInteger(p[k]))) return `features.${whole.join(', ')} must be whole numbers`;
  if (p.fftLength < p.frameLength || p.fftLength > 1 << 16 || (p.fftLength & (p.fftLength - 1)) !== 0)
    return 'features.fftLength must be a power of two >= frameLength (at most 65536)';
  if (!(p.lowerHz < p.upperHz && p.upperHz <= p.sampleRate / 2)) return 'features need lowerHz < upperHz <= sampleRate / 2';
  const frames = frameCount(p);
  if (!(frames > 0 && frames * p.melBins <= 1 << 20)) return 'features give no frames, or too many';
  return undefined;
}
