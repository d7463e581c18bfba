import { BeeError } from '../errors.js';
import { LogMel } from './logmel.js';
import { type FeatureParams, PAPER_FEATURES } from './params.js';

/**
 * Log-mel features of a stream, frame by frame: each new `frameStep` of samples completes one
 * frame, computed once, into a ring of the last `frames` frames (98: one clip). A window that
 * starts on a frame boundary is the ring in order, and equals `LogMel.compute` of its samples
 * bit for bit: a frame depends on its own samples alone.
 */
export class StreamingLogMel {
  readonly frames: number;
  readonly melBins: number;
  private readonly logMel: LogMel;
  /** the samples not yet consumed by a frame, plus the overlap the next frame needs */
  private pending: Float32Array;
  private pendingLength = 0;
  private readonly ring: Float32Array;
  /** frames computed since the start of the stream */
  framesDone = 0;

  constructor(readonly params: FeatureParams = PAPER_FEATURES) {
    // frames that skip samples would need the gaps dropped; no model bee trains has them
    if (params.frameStep > params.frameLength)
      throw new BeeError(`a frame step of ${params.frameStep} samples skips samples between frames of ${params.frameLength}`);
    this.logMel = new LogMel(params);
    this.frames = this.logMel.frames;
    this.melBins = params.melBins;
    this.ring = new Float32Array(this.frames * params.melBins);
    this.pending = new Float32Array(params.frameLength + params.frameStep);
  }

  /** Adds samples (at params.sampleRate); calls `onFrame` after each frame completed, with the count of frames so far. */
  push(samples: Float32Array, onFrame: (framesDone: number) => void): void {
    const { frameLength, frameStep, melBins } = this.params;
    let at = 0;
    while (at < samples.length) {
      // Fill the pending buffer (a frame and a step long): each fill completes a frame or uses up the samples.
      const room = this.pending.length - this.pendingLength;
      const take = Math.min(room, samples.length - at);
      this.pending.set(samples.subarray(at, at + take), this.pendingLength);
      this.pendingLength += take;
      at += take;
      let start = 0;
      while (this.pendingLength - start >= frameLength) {
        this.logMel.frameInto(this.pending, start, this.ring, (this.framesDone % this.frames) * melBins);
        this.framesDone++;
        start += frameStep;
        onFrame(this.framesDone);
      }
      this.pending.copyWithin(0, start, this.pendingLength);
      this.pendingLength -= start;
    }
  }

  /** The last `frames` frames in order (frames x mel bins, row-major) into `out`; needs framesDone >= frames. */
  window(out: Float32Array): void {
    const { melBins } = this;
    const first = this.framesDone % this.frames; // the oldest frame's slot
    out.set(this.ring.subarray(first * melBins), 0);
    out.set(this.ring.subarray(0, first * melBins), (this.frames - first) * melBins);
  }
}
