import { Command, CommanderError } from 'commander';
import { BeeError } from '../errors.js';
import { BEE_VERSION } from '../version.js';
import { stopProgressBars } from './io.js';
import { endQuietlyOnClosedStdout } from '../../bin/native-env.js';
import { calibrateCommand } from './commands/calibrate.js';
import { dataDownloadCommand } from './commands/data-download.js';
import { dataInfoCommand } from './commands/data-info.js';
import { dataMineCommand } from './commands/data-mine.js';
import { dataStreamCommand } from './commands/data-stream.js';
import { dataSynthCommand } from './commands/data-synth.js';
import { demoCommand } from './commands/demo.js';
import { featuresCommand } from './commands/features.js';
import { evalCommand } from './commands/eval.js';
import { exportCommand } from './commands/export.js';
import { infoCommand } from './commands/info.js';
import { listenCommand } from './commands/listen.js';
import { predictCommand } from './commands/predict.js';
import { summaryCommand } from './commands/summary.js';
import { sweepCommand } from './commands/sweep.js';
import { trainCommand } from './commands/train.js';
import { webCommand } from './commands/web.js';

const data = new Command('data')
  .description('inspect, fetch, synthesize and mine datasets')
  .addCommand(dataInfoCommand)
  .addCommand(dataDownloadCommand)
  .addCommand(dataSynthCommand)
  .addCommand(dataStreamCommand)
  .addCommand(dataMineCommand);

const program = new Command('bee')
  .description('binary early-exit networks for keyword spotting: train, evaluate, deploy')
  .version(BEE_VERSION)
  .showSuggestionAfterError()
  .addCommand(demoCommand)
  .addCommand(infoCommand)
  .addCommand(featuresCommand)
  .addCommand(data)
  .addCommand(trainCommand)
  .addCommand(evalCommand)
  .addCommand(sweepCommand)
  .addCommand(calibrateCommand)
  .addCommand(predictCommand)
  .addCommand(listenCommand)
  .addCommand(summaryCommand)
  .addCommand(exportCommand)
  .addCommand(webCommand)
  .addHelpText(
    'after',
    `
Examples:
  $ bee demo                  # no data, no internet: the whole job in a few minutes
  $ bee info
  $ bee data info --data ../shared/data/speech-commands-v0.02-test --split-salt bee
  $ bee features clip.wav --json
  $ bee train --data data/speech_commands_v0.02 --epochs 50`,
  );

// A closed stdout (bee ... | head) ends bee quietly, launched or not.
endQuietlyOnClosedStdout();

// Commander's own errors (unknown option, missing argument) go through the same exit path.
for (const command of [program, data, ...program.commands, ...data.commands]) command.exitOverride();

try {
  await program.parseAsync(process.argv);
} catch (err) {
  stopProgressBars();
  if (err instanceof CommanderError) {
    // Commander has already printed its message (or the help/version text).
    process.exitCode = err.exitCode;
  } else if (err instanceof BeeError) {
    process.stderr.write(`bee: ${err.oneLine()}\n`);
    process.exitCode = 1;
  } else {
    const e = err as Error;
    process.stderr.write(`bee: internal error: ${e?.message ?? e}${process.env.BEE_DEBUG ? `\n${e?.stack}` : ' (BEE_DEBUG=1 shows the stack)'}\n`);
    process.exitCode = 70;
  }
}
