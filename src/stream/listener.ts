import type { EarlyExitClassifier } from '../spec/classifier.js';
import { argmax, type ExitRule } from '../spec/exit-rules.js';
import type { FeatureParams } from '../features/params.js';
import { type Detection, Detector, type DetectionRule, type WindowAnswer } from './detector.js';
import { ExitSchedule } from './exit-schedule.js';
import { StreamWindows } from './windows.js';

export interface ListenSummary {
  durationSeconds: number;
  windows: number;
  /** seconds of audio per second of processing (features and network; waiting for input excluded) */
  realTimeFactor: number;
  windowsPerExit: number[];
  /** MACs spent / MACs of every window through the full network */
  computeShare: number;
  detections: number;
}

/**
 * Keyword spotting on a stream: samples in (at the model's rate), a 1 s window every `hopMs`
 * (a multiple of the frame step), each classified with early exit, each answer through the
 * detection rule. Features are computed incrementally: each frame once.
 */
export class Listener {
  /** every window's answer, where `keepAnswers` asked for them (an ROC reruns the rule on them) */
  readonly answers: WindowAnswer[] = [];
  readonly detections: Detection[] = [];
  private windows = 0;
  private readonly windowStream: StreamWindows;
  private readonly detector: Detector;
  private readonly schedule: ExitSchedule;
  private readonly windowsPerExit: number[];
  private samples = 0;
  private busyMs = 0;
  private compute = 0;

  constructor(
    private readonly classifier: Pick<EarlyExitClassifier, 'classify'>,
    labels: string[],
    params: FeatureParams,
    private readonly options: {
      /** each exit's MACs as a share of the full network's (spec/network-cost.ts), one per exit */
      exitCosts: number[];
      hopMs: number;
      rule: ExitRule;
      /** StreamRule.holdWindows: every exit for this many windows after one that names a keyword */
      holdWindows?: number;
      detection: DetectionRule;
      keepAnswers?: boolean;
      onWindow?: (answer: WindowAnswer) => void;
      onDetection?: (d: Detection) => void;
    },
  ) {
    this.windowStream = new StreamWindows(params, options.hopMs);
    this.detector = new Detector(labels, options.detection);
    this.windowsPerExit = new Array(options.exitCosts.length).fill(0);
    this.schedule = new ExitSchedule(options.rule, labels, options.exitCosts.length, options.holdWindows);
  }

  push(samples: Float32Array): void {
    this.samples += samples.length;
    this.process(samples);
  }

  /**
   * The input ended. A stream shorter than a window is padded with silence to one window (as bee
   * predict pads a short clip), so that it still gets an answer; the padding is not counted as audio.
   */
  finish(): void {
    const { clipSamples } = this.windowStream.params;
    if (this.windows === 0 && this.samples > 0 && this.samples < clipSamples) this.process(new Float32Array(clipSamples - this.samples));
  }

  private process(samples: Float32Array): void {
    const started = performance.now();
    this.windowStream.push(samples, (window, time) => {
      const { exit, probs } = this.classifier.classify(window, this.schedule.next());
      const answer = { time, exit, probabilities: probs[exit - 1] };
      this.schedule.answered(argmax(answer.probabilities));
      if (this.options.keepAnswers) this.answers.push(answer);
      this.windows++;
      this.windowsPerExit[exit - 1]++;
      this.compute += this.options.exitCosts[exit - 1];
      this.options.onWindow?.(answer);
      const detection = this.detector.push(answer);
      if (detection) {
        this.detections.push(detection);
        this.options.onDetection?.(detection);
      }
    });
    this.busyMs += performance.now() - started;
  }

  summary(): ListenSummary {
    const durationSeconds = this.samples / this.windowStream.params.sampleRate;
    return {
      durationSeconds,
      windows: this.windows,
      realTimeFactor: this.busyMs > 0 ? durationSeconds / (this.busyMs / 1000) : 0,
      windowsPerExit: this.windowsPerExit,
      computeShare: this.windows ? this.compute / this.windows : 0,
      detections: this.detections.length,
    };
  }
}
