import type { Worker } from 'node:worker_threads';
import type { FeatureTable } from '../data/feature-cache.js';
import { siblingModule, spawnWorker } from '../util/worker.js';
import { drawAugmentation, type AugmentOptions } from '../data/augment.js';
import type { AugmentRequest, AugmentResult, AugmentWorkerData } from './augment-worker.js';
import type { Rng } from '../util/rng.js';

/**
 * Feeds augmented training batches: the worker holds the training waveforms and featurizes each
 * batch's augmented copies while the main thread runs the previous training step. The
 * augmentations are drawn here, in batch order, from the epoch's generator, so they do not depend
 * on timing.
 */
export class AugmentFeeder {
  private batches: AugmentRequest[] = [];
  private nextToSend = 0;
  private nextToTake = 0;
  private readonly pending = new Map<number, { resolve(f: Float32Array): void; reject(e: unknown): void; promise: Promise<Float32Array> }>();
  private failure: unknown;

  private constructor(
    private readonly worker: Worker,
    private readonly table: FeatureTable,
    private readonly noiseLengths: number[],
    /** the synthesized sentences' lengths (options.synthNegatives), clips rows.length on */
    readonly sentenceLengths: number[],
    private readonly rows: number,
    private readonly options: AugmentOptions,
  ) {
    worker.on('message', ({ id, features }: AugmentResult) => this.pending.get(id)?.resolve(features));
    worker.on('error', (err) => this.fail(err));
    worker.on('exit', (code) => this.fail(new Error(`augmentation worker exited with code ${code}`)));
  }

  /**
   * Starts the worker for the given feature-table rows (the training split); waits until it holds
   * their waveforms (and has synthesized the sentences, with options.synthNegatives).
   */
  static async start(table: FeatureTable, rows: number[], noiseFiles: string[], options: AugmentOptions): Promise<AugmentFeeder> {
    const data: AugmentWorkerData = {
      params: table.params,
      clips: rows.map((r) => ({ file: table.clips[r].file, window: table.clips[r].window })),
      noiseFiles,
      sentences: Boolean(options.synthNegatives),
    };
    const worker = spawnWorker(siblingModule(import.meta.url, 'augment-worker'), data);
    const ready = await new Promise<{ noiseLengths: number[]; sentenceLengths: number[] }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    return new AugmentFeeder(worker, table, ready.noiseLengths, ready.sentenceLengths, rows.length, options);
  }

  get noiseCount(): number {
    return this.noiseLengths.length;
  }

  /**
   * batches: indices into the training rows (from rows.length on: synthesized sentences), in the
   * order next() will be called; cuttable: whether a row's word may be cut (AugmentOptions.cutWords).
   */
  beginEpoch(batches: number[][], rng: Rng, cuttable: (clip: number) => boolean = () => false): void {
    const params = { ...this.table.params, frames: this.table.frames, melBins: this.table.melBins };
    this.batches = batches.map((items, id) => ({
      id,
      items: items.map((clip) => {
        const aug = drawAugmentation(rng, this.options, params, this.noiseLengths, clip < this.rows && cuttable(clip));
        if (clip >= this.rows) aug.crop = Math.floor(rng() * Math.max(1, this.sentenceLengths[clip - this.rows] - params.clipSamples + 1));
        return { clip, aug };
      }),
    }));
    this.nextToSend = 0;
    this.nextToTake = 0;
    this.pending.clear();
    this.send();
    this.send();
  }

  private send(): void {
    if (this.nextToSend >= this.batches.length) return;
    const request = this.batches[this.nextToSend++];
    let resolve!: (f: Float32Array) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<Float32Array>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    this.pending.set(request.id, { resolve, reject, promise });
    this.worker.postMessage(request);
  }

  private fail(err: unknown): void {
    this.failure = err;
    for (const p of this.pending.values()) p.reject(err);
  }

  /** The next batch's features (batch x frames x mel bins) and which of its clips were cut; keeps one more batch in flight. */
  async next(): Promise<{ features: Float32Array; cut: boolean[] }> {
    if (this.failure) throw this.failure;
    const id = this.nextToTake++;
    const entry = this.pending.get(id);
    if (!entry) throw new Error(`augmentation batch ${id} was never requested`);
    this.send();
    const features = await entry.promise;
    this.pending.delete(id);
    return { features, cut: this.batches[id].items.map((item) => item.aug.cut === true) };
  }

  async stop(): Promise<void> {
    await this.worker.terminate();
  }
}
