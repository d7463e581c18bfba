import fs from 'node:fs';
import path from 'node:path';
import { encodeWav } from '../audio/wav.js';
import { BeeError } from '../errors.js';
import type { FeatureParams } from '../features/params.js';
import type { EarlyExitClassifier } from '../spec/classifier.js';
import type { ExitRule } from '../spec/exit-rules.js';
import { removeStaleTemps, tempDirFor } from '../util/atomic.js';
import { makeDir } from '../util/make-dir.js';
import { describeError } from '../util/read-file.js';
import type { DetectionRule } from './detector.js';
import { type MinedWindow, type MiningOptions, NegativeMiner } from './hard-negatives.js';
import { Listener, type ListenSummary } from './listener.js';
import { feedWavFile } from './sources.js';

/** The model as it listens: what bee listen runs on a stream. */
export interface MiningModel {
  classifier: Pick<EarlyExitClassifier, 'classify'>;
  labels: string[];
  features: FeatureParams;
  /** each exit's MACs as a share of the full network's */
  exitCosts: number[];
  rule: ExitRule;
  /** StreamRule.holdWindows */
  holdWindows?: number;
  detection: DetectionRule;
  hopMs: number;
}

export interface MiningResult {
  windows: MinedWindow[];
  /** windows that qualified, before one was kept per event */
  candidates: number;
  listened: ListenSummary;
}

/** Listens to a WAV file as bee listen does and mines the windows the model takes for keywords (NegativeMiner). */
export async function mineWavFile(
  file: string,
  model: MiningModel,
  options: MiningOptions,
  control: { stopped?: () => boolean; onProgress?: (seconds: number) => void } = {},
): Promise<MiningResult> {
  const { sampleRate, clipSamples } = model.features;
  const miner = new NegativeMiner(model.labels, (l) => !model.detection.ignore.has(l), { sampleRate, clipSamples }, options);
  const listener = new Listener(model.classifier, model.labels, model.features, {
    exitCosts: model.exitCosts,
    hopMs: model.hopMs,
    rule: model.rule,
    holdWindows: model.holdWindows,
    detection: model.detection,
    onWindow: (answer) => miner.window(answer),
  });
  let pushed = 0;
  const sink = {
    push: (samples: Float32Array) => {
      miner.push(samples);
      listener.push(samples);
      pushed += samples.length;
      control.onProgress?.(pushed / sampleRate);
    },
    stopped: control.stopped,
  };
  await feedWavFile(file, sampleRate, sink, model.hopMs / 1000);
  listener.finish();
  return { windows: miner.finish(), candidates: miner.candidates, listened: listener.summary() };
}

/** What a mined folder's mined.json holds besides its windows: where they came from. */
export interface MinedProvenance {
  stream: string;
  model: string;
  options: MiningOptions;
}

export const MINED_INDEX = 'mined.json';

/** A mined window's file name: its time in the stream and the keyword the model heard. */
const fileName = (w: MinedWindow) => `${w.time.toFixed(1).padStart(7, '0')}s-${w.label.replace(/[^\w-]/g, '_')}.wav`;

/**
 * Writes mined windows as a folder of 1 s WAVs (16-bit, the features' rate) and mined.json, for
 * bee train --hard-negatives. Written beside `dir` and renamed into place: a failure leaves no
 * half folder; an existing folder is replaced only with `force`, and only one bee mined.
 */
export function writeMinedFolder(dir: string, windows: MinedWindow[], sampleRate: number, provenance: MinedProvenance, force = false): void {
  const target = path.resolve(dir);
  if (fs.existsSync(target)) {
    if (!force) throw new BeeError('exists already', { file: dir, hint: 'pass --force to replace it, or pick another --out' });
    if (!fs.existsSync(path.join(target, MINED_INDEX)))
      throw new BeeError('exists and is not a folder bee data mine wrote (no mined.json): not replaced', { file: dir, hint: 'pick another --out' });
  }
  makeDir(path.dirname(target));
  removeStaleTemps(target);
  const tmp = tempDirFor(target);
  try {
    fs.mkdirSync(tmp);
    const files = windows.map((w) => {
      const name = fileName(w);
      fs.writeFileSync(path.join(tmp, name), encodeWav({ sampleRate, channels: [w.samples], bits: 16 }));
      return { file: name, time: w.time, label: w.label, confidence: w.confidence, exit: w.exit };
    });
    fs.writeFileSync(path.join(tmp, MINED_INDEX), `${JSON.stringify({ ...provenance, windows: files }, null, 2)}\n`);
    if (fs.existsSync(target)) fs.rmSync(target, { recursive: true });
    fs.renameSync(tmp, target);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    if (err instanceof BeeError) throw err;
    throw new BeeError(`cannot write: ${describeError(err)}`, { file: dir, hint: 'check free disk space and permissions' });
  }
}
