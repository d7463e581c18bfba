/**
 * The mel filterbank of TensorFlow's `tf.signal.linear_to_mel_weight_matrix` (HTK mel scale,
 * triangles between linearly spaced mel edges, the DC bin zeroed), stored sparsely: band b covers
 * spectrogram bins [start[b], start[b] + weights[b].length).
 */
export interface MelFilterbank {
  start: Int32Array;
  weights: Float64Array[];
}

const hzToMel = (hz: number) => 1127 * Math.log1p(hz / 700);

export function melFilterbank(melBins: number, spectrogramBins: number, sampleRate: number, lowerHz: number, upperHz: number): MelFilterbank {
  if (!(lowerHz >= 0 && lowerHz < upperHz && upperHz <= sampleRate / 2)) {
    throw new RangeError(`mel range must satisfy 0 <= lower < upper <= Nyquist, got ${lowerHz}-${upperHz} Hz`);
  }
  const nyquist = sampleRate / 2;
  const binMel = Float64Array.from({ length: spectrogramBins }, (_, k) => hzToMel((nyquist * k) / (spectrogramBins - 1)));
  const lowMel = hzToMel(lowerHz);
  const edgeStep = (hzToMel(upperHz) - lowMel) / (melBins + 1);
  const edge = (i: number) => lowMel + i * edgeStep;
  const start = new Int32Array(melBins);
  const weights: Float64Array[] = [];
  for (let b = 0; b < melBins; b++) {
    const [lo, centre, hi] = [edge(b), edge(b + 1), edge(b + 2)];
    const row: number[] = [];
    let first = -1;
    for (let k = 1; k < spectrogramBins; k++) {
      const m = binMel[k];
      const w = Math.max(0, Math.min((m - lo) / (centre - lo), (hi - m) / (hi - centre)));
      if (w > 0) {
        if (first < 0) first = k;
        row.push(w);
      }
    }
    start[b] = Math.max(first, 0);
    weights.push(Float64Array.from(row));
  }
  return { start, weights };
}
