import path from 'node:path';
import { Command } from 'commander';
import { WavFileReader } from '../../audio/wav.js';
import { initBackend } from '../../backend/backend.js';
import { type EngineName, openModel } from '../../exits/open-model.js';
import { modelOrPretrained } from '../../exits/pretrained.js';
import { defaultStreamRule, exitRuleOf } from '../../spec/stream-rule.js';
import { detectionRuleOf } from '../../stream/detector.js';
import { DEFAULT_MINING } from '../../stream/hard-negatives.js';
import { mineWavFile, writeMinedFolder } from '../../stream/mine.js';
import { parseTruthCsv } from '../../stream/score.js';
import { readRegularFile } from '../../util/read-file.js';
import { addModelOptions } from '../exit-options.js';
import { backendNotice, printJson, progressBar, stopOnInterrupt } from '../io.js';
import { positiveNumber, probability, wholeNumber } from '../parsers.js';

interface MineFlags {
  model?: string;
  engine?: EngineName;
  truth?: string;
  minConfidence: number;
  max: number;
  separation: number;
  out: string;
  force?: boolean;
  json?: boolean;
}

const HOP_MS = 100;

export const dataMineCommand = addModelOptions(
  new Command('mine')
    .description('hard negatives: the windows of a stream without keywords that a model takes for keywords, as _unknown_ clips to train on')
    .argument('<stream.wav>', 'a recording with no keyword in it (bee data stream --negatives), or one whose keywords --truth names'),
  true,
)
  .option('--truth <csv>', "the stream's truth (start,end,label): windows that overlap a keyword the model may name are left alone")
  .option('--min-confidence <p>', 'a window whose top label is a keyword with at least this probability is mined', probability, DEFAULT_MINING.minConfidence)
  .option(
    '--separation <s>',
    'windows closer than this (seconds) are one event: its most confident window is kept',
    positiveNumber,
    DEFAULT_MINING.separationSeconds,
  )
  .option('--max <n>', 'keep at most this many windows, the most confident', wholeNumber(1, 100000), DEFAULT_MINING.max)
  .requiredOption('--out <dir>', 'the folder of mined 1 s WAVs and mined.json (for bee train --hard-negatives)')
  .option('--force', 'replace --out if bee data mine wrote it')
  .option('--json', 'print what was mined as JSON')
  .addHelpText(
    'after',
    `
The model listens as bee listen does (its stream rule's exits, a window every ${HOP_MS} ms); every
window whose top label is a keyword with at least --min-confidence is a candidate, and the most
confident window of each event (candidates within --separation s of each other) is written as a
1 s WAV. Train on them as _unknown_ with bee train --hard-negatives DIR: the model learns what it
confused with its keywords. Mine streams of the *training* split only, so that validation and
test stay unseen.

Examples:
  $ bee data stream --data DIR --split-salt bee --split train --noise-dir NOISE --negatives --hours 2 --out runs/neg-train.wav
  $ bee data mine runs/neg-train.wav --model runs/sc --out runs/hard-negatives
  $ bee train --data DIR --split-salt bee --noise-dir NOISE --hard-negatives runs/hard-negatives --out runs/sc-hard`,
  )
  .action(async (input: string, flags: MineFlags) => {
    const spoken = flags.truth ? parseTruthCsv(readRegularFile(flags.truth, 4 * 1024 * 1024).toString('utf8'), flags.truth) : [];
    // the header alone: a stream may be hours long
    const reader = WavFileReader.open(input);
    const { seconds } = reader.info;
    reader.close();
    backendNotice(await initBackend());
    const modelPath = modelOrPretrained(flags.model);
    const model = await openModel(modelPath, flags.engine ?? 'fastest');
    const streamRule = model.stream ?? defaultStreamRule(model.classifier.exits);
    const detection = detectionRuleOf(streamRule);
    const options = {
      minConfidence: flags.minConfidence,
      separationSeconds: flags.separation,
      max: flags.max,
      spoken: spoken.filter((t) => !detection.ignore.has(t.label)),
    };
    const bar = flags.json ? undefined : progressBar('listening', Math.ceil(seconds));
    const stopped = stopOnInterrupt('stopping: nothing is written');
    const mined = await mineWavFile(
      input,
      {
        classifier: model.classifier,
        labels: model.labels,
        features: model.features,
        exitCosts: model.exitCosts.map((e) => e.relativeMacs),
        rule: exitRuleOf(streamRule, model.labels),
        holdWindows: streamRule.holdWindows,
        detection,
        hopMs: HOP_MS,
      },
      options,
      { stopped, onProgress: (done) => bar?.update(Math.floor(done)) },
    );
    bar?.stop();
    model.classifier.dispose();
    if (stopped()) {
      process.exitCode = 130;
      return;
    }
    const { spoken: _, ...recorded } = options;
    writeMinedFolder(
      flags.out,
      mined.windows,
      model.features.sampleRate,
      { stream: path.resolve(input), model: path.resolve(modelPath), options: recorded },
      flags.force,
    );
    const perLabel: Record<string, number> = {};
    for (const w of mined.windows) perLabel[w.label] = (perLabel[w.label] ?? 0) + 1;
    const result = { out: flags.out, windows: mined.windows.length, candidates: mined.candidates, perLabel, hours: mined.listened.durationSeconds / 3600 };
    if (flags.json) return printJson(result);
    const labels = Object.entries(perLabel)
      .sort((a, b) => b[1] - a[1])
      .map(([l, n]) => `${l} ${n}`)
      .join(', ');
    console.log(
      `mined ${result.windows} windows from ${mined.candidates} candidates in ${result.hours.toFixed(2)} h of audio${labels ? ` (${labels})` : ''}: ${flags.out}`,
    );
    console.log(`next: bee train ... --hard-negatives ${flags.out}`);
  });
