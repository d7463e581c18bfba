/**
 * Finds the words in a recording of a word said several times with pauses (the web page's "add a
 * word"): the loudest 1 s windows, 10 dB over the recording's quiet parts, each centred on its
 * energy and none overlapping another (energy in 10 ms frames).
 */
export function wordWindows(samples: Float32Array, sampleRate: number, options: { seconds?: number; max?: number } = {}): Float32Array[] {
  const length = Math.round((options.seconds ?? 1) * sampleRate);
  const hop = Math.round(sampleRate / 100);
  const frames = Math.floor(samples.length / hop);
  const span = Math.round(length / hop);
  if (frames < span) return [];
  const energy = new Float64Array(frames);
  for (let f = 0; f < frames; f++) {
    let sum = 0;
    for (let i = f * hop; i < (f + 1) * hop; i++) sum += samples[i] * samples[i];
    energy[f] = sum;
  }
  // each window's energy, by a running sum over `span` frames
  const windows = frames - span + 1;
  const windowEnergy = new Float64Array(windows);
  let running = 0;
  for (let f = 0; f < frames; f++) {
    running += energy[f] - (f >= span ? energy[f - span] : 0);
    if (f >= span - 1) windowEnergy[f - span + 1] = running;
  }
  // the quiet between words: the 10th percentile of 10 ms frames, as the energy of a whole window
  const floor = [...energy].sort((a, b) => a - b)[Math.floor(0.1 * frames)] * span;
  const picked: number[] = [];
  const taken = new Uint8Array(windows);
  const loudest = Math.max(...windowEnergy);
  for (;;) {
    let best = -1;
    for (let w = 0; w < windows; w++) if (!taken[w] && (best < 0 || windowEnergy[w] > windowEnergy[best])) best = w;
    // a word stands 10 dB over the quiet, and within 15 dB of the loudest word
    if (best < 0 || windowEnergy[best] < 10 * floor || windowEnergy[best] < loudest / 31.6) break;
    // every window that holds the whole word is about as loud: centre it on the word's energy
    let [mass, moment] = [0, 0];
    for (let f = best; f < best + span; f++) [mass, moment] = [mass + energy[f], moment + energy[f] * (f + 0.5)];
    const centred = Math.min(windows - 1, Math.max(0, Math.round(moment / mass - span / 2)));
    picked.push(centred);
    if (options.max && picked.length >= options.max) break;
    // a window that holds most of this word's second is the same word
    for (let w = Math.max(0, centred - span + 1); w < Math.min(windows, centred + span); w++) taken[w] = 1;
  }
  return picked.sort((a, b) => a - b).map((w) => samples.slice(w * hop, w * hop + length));
}
