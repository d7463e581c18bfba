/**
 * How a model listens to a stream: which windows may leave at which exit, and which answers become
 * detections. `bee listen --calibrate` picks one for a false-alarm rate and stores it in the model
 * (bee.json's `stream`, the .bee header's `stream`); bee listen, stdin and the web page use it.
 */
export interface StreamRule {
  /** one max-softmax threshold per exit but the last; before keywordExit, the quiet classes' probability must reach it */
  thresholds: number[];
  /** the first exit that may answer with a keyword (1: any, every class alike) */
  keywordExit: number;
  /** the detection rule (DetectionRule): one threshold, and keywords with one of their own */
  minConfidence: number;
  labelConfidence?: Record<string, number>;
  smoothWindows: number;
  suppressMs: number;
  /** how it was chosen, where bee listen --calibrate chose it */
  calibration?: StreamCalibration;
}

export interface StreamCalibration {
  /** the false alarms an hour aimed at on the negative stream */
  targetFalseAlarmsPerHour: number;
  /** the streams it was chosen on (their truth files) */
  dense: string;
  negatives: string;
  /** what the rule gave on them */
  hitRate: number;
  denseFalseAlarmsPerHour: number;
  negativesFalseAlarmsPerHour: number;
  negativesComputeShare: number;
  date: string;
}
