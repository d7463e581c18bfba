import fs from 'node:fs';
import path from 'node:path';
import { initBackend } from '../backend/backend.js';
import { packModel } from '../convert/pack.js';
import type { PackedModel } from '../engine/format.js';
import { isPackedFile, readPackedFile, writePackedFile } from '../engine/packed-file.js';
import { BeeError } from '../errors.js';
import { BEE_VERSION } from '../version.js';
import { loadModelDir } from '../model/saved-model.js';
import { DEFAULT_TRANSFER, TRAINING_PHASES, trainHeads } from '../transfer/custom-model.js';
import { readExampleFolder } from '../transfer/folder-examples.js';
import { backendNotice, notice, printJson, progressBar, type Progress } from './io.js';

export interface TrainFromFlags {
  from: string;
  data: string;
  out: string;
  epochs?: number;
  seed: number;
  noiseDir?: string;
  cache?: string;
  json?: boolean;
}

/** The packed model --from names: a .bee file, or a model directory packed in memory (TensorFlow reads it). */
async function packedSource(from: string): Promise<PackedModel> {
  if (isPackedFile(from)) return readPackedFile(from);
  backendNotice(await initBackend());
  const { model, meta, dir } = await loadModelDir(from);
  try {
    return packModel(model, meta, dir).packed;
  } finally {
    model.dispose();
  }
}

/** A custom model is one .bee file: never a directory, the model it comes from, or a file that is not a packed model. */
function checkOut(out: string, from: string): void {
  const stat = fs.statSync(out, { throwIfNoEntry: false });
  if (!stat) return;
  if (stat.isDirectory()) throw new BeeError('is a directory: --freeze body writes one .bee file', { file: out, hint: 'pass --out FILE.bee' });
  if (path.resolve(out) === path.resolve(from))
    throw new BeeError('is the model being started from: writing it would replace it', { file: out, hint: 'name a new file' });
  if (!/\.bee$/i.test(out)) throw new BeeError('exists and is not a .bee file: not overwriting it', { file: out, hint: 'name a new file, e.g. custom.bee' });
}

/**
 * bee train --from MODEL --freeze body: the body of MODEL as it is, new exit heads for the words
 * of --data trained on its statistics without TensorFlow (src/transfer/), written as one .bee.
 */
export async function trainFrom(flags: TrainFromFlags): Promise<void> {
  checkOut(flags.out, flags.from);
  const source = await packedSource(flags.from);
  const examples = readExampleFolder(flags.data, source.header.features, { noiseDir: flags.noiseDir, cacheDir: flags.cache });
  const counts = [...examples.words].map(([w, clips]) => `${w} ${clips.length}`).join(', ');
  notice(`words: ${counts}; background: ${examples.sources.noise}; other speech: ${examples.sources.unknown}`);
  const options = { ...DEFAULT_TRANSFER, seed: flags.seed, head: { ...DEFAULT_TRANSFER.head, ...(flags.epochs ? { epochs: flags.epochs } : {}) } };
  let bar: Progress | undefined;
  let phase = '';
  const { model, report } = trainHeads(source, examples, options, (now, done, total) => {
    if (now !== phase) {
      bar?.stop();
      phase = now;
      bar = progressBar(TRAINING_PHASES[now], total);
    }
    bar?.update(done);
  });
  bar?.stop();
  const bytes = writePackedFile(flags.out, { ...model, header: { ...model.header, beeVersion: BEE_VERSION } });
  const summary = { out: path.resolve(flags.out), bytes, from: path.resolve(flags.from), sources: examples.sources, ...report };
  if (flags.json) return printJson(summary);
  console.log(
    `trained and calibrated ${report.exits.length} exit heads in ${Object.values(report.seconds)
      .reduce((a, b) => a + b, 0)
      .toFixed(1)} s ` +
      `(${Object.values(report.examples).reduce((a, b) => a + b, 0)} examples; training accuracy per exit ${report.exits.map((e) => `${(100 * e.accuracy).toFixed(1)}%`).join(' / ')})`,
  );
  console.log(`wrote ${flags.out}; next: bee listen --model ${flags.out} FILE.wav, or bee web --model ${flags.out}`);
}
