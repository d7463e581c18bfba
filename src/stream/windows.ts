import type { FeatureParams } from '../features/params.js';
import { StreamingLogMel } from '../features/streaming-logmel.js';

/**
 * A stream's 1 s windows, one every `hopMs` (a multiple of the frame step): samples in (at the
 * features' rate), each window's log-mel features and end time out. Each frame is computed once.
 */
export class StreamWindows {
  private readonly features: StreamingLogMel;
  private readonly window: Float32Array;
  private readonly hopFrames: number;

  constructor(
    readonly params: FeatureParams,
    hopMs: number,
  ) {
    this.features = new StreamingLogMel(params);
    this.window = new Float32Array(this.features.frames * params.melBins);
    this.hopFrames = (hopMs * params.sampleRate) / 1000 / params.frameStep;
  }

  /** Calls onWindow(features, time) for every window the samples complete; `features` is reused between calls. */
  push(samples: Float32Array, onWindow: (features: Float32Array, time: number) => void): void {
    const { frames } = this.features;
    const { frameStep, sampleRate, clipSamples } = this.params;
    this.features.push(samples, (done) => {
      if (done < frames || (done - frames) % this.hopFrames !== 0) return;
      this.features.window(this.window);
      // the end of the window's clip (its last frame ends a few samples before)
      onWindow(this.window, ((done - frames) * frameStep + clipSamples) / sampleRate);
    });
  }
}
