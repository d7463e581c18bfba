// The page's "add a word" trains here, off the page's thread: the body's statistics through the
// packed engine, the exit heads trained without TensorFlow (src/transfer/), the result packed as a .bee.
import { decodePacked, encodePacked } from '../engine/format.js';
import { useKernelModule } from '../engine/wasm-kernels.js';
import { useSpectrumModule } from '../features/spectrum.js';
import { DEFAULT_TRANSFER, TRAINING_PHASES, trainHeads, type TransferReport } from '../transfer/custom-model.js';

/** What the page sends: the kernels and the features' module, the model it runs, and the recorded examples at its sample rate. */
export interface TrainRequest {
  kernels: WebAssembly.Module;
  spectrum: WebAssembly.Module;
  model: Uint8Array;
  words: [string, Float32Array[]][];
  noise: Float32Array[];
  unknown: Float32Array[];
}

/** progress.phase: what is being done, as the page shows it (TRAINING_PHASES) */
export type TrainReply = { progress: { phase: string; done: number; total: number } } | { model: Uint8Array; report: TransferReport } | { error: string };

const reply = (message: TrainReply, transfer: Transferable[] = []) => (self as unknown as Worker).postMessage(message, transfer);

self.onmessage = (e: MessageEvent<TrainRequest>) => {
  try {
    const { kernels, spectrum, model, words, noise, unknown } = e.data;
    useKernelModule(kernels);
    useSpectrumModule(spectrum);
    const source = decodePacked(model, 'model.bee');
    let last = 0;
    const trained = trainHeads(source, { words: new Map(words), noise, unknown }, DEFAULT_TRANSFER, (phase, done, total) => {
      // a message every 2%: enough for a progress bar, few enough not to flood the page
      if (done === total || done - last >= total / 50 || done < last) reply({ progress: { phase: TRAINING_PHASES[phase], done, total } });
      last = done;
    });
    const bytes = encodePacked(trained.model);
    reply({ model: bytes, report: trained.report }, [bytes.buffer]);
  } catch (err) {
    reply({ error: (err as Error).message });
  }
};
