import { Command } from 'commander';
import { readWav } from '../../audio/wav.js';
import { initBackend } from '../../backend/backend.js';
import { BeeError } from '../../errors.js';
import { predictAudio, type Prediction } from '../../exits/predict.js';
import { StagedModel } from '../../exits/staged-model.js';
import { LogMel } from '../../features/logmel.js';
import { loadModelDir } from '../../model/saved-model.js';
import { PAPER_FILTERS } from '../../model/network.js';
import { addRuleOptions, ruleFromFlags } from '../exit-options.js';
import { backendNotice, printJson } from '../io.js';
import { formatTable } from '../table.js';

export const predictCommand = addRuleOptions(
  new Command('predict')
    .description('classify recordings with early exit: label, confidence, the exit used, the time taken')
    .argument('<files...>', 'WAV files (any sample rate and length)')
    .requiredOption('--model <dir>', 'a model directory, or a bee train --out directory (its best checkpoint)'),
)
  .option('--json', 'print JSON')
  .addHelpText('after', `
A recording up to 1 s is centre-padded, as in training. A longer one is read in half-overlapping
1 s windows and the most confident window answers (its start is reported).

Examples:
  $ bee predict yes.wav no.wav --model runs/sc
  $ bee predict long-recording.wav --model runs/sc --threshold 0.9 --json`)
  .action(async (files: string[], flags: { model: string; threshold?: string; entropy?: string; json?: boolean }) => {
    const rule = ruleFromFlags(flags, PAPER_FILTERS.length);
    backendNotice(await initBackend());
    const { model, meta } = await loadModelDir(flags.model);
    const staged = new StagedModel(model, meta.calibration?.temperatures);
    const logMel = new LogMel(meta.features);
    const results: ({ file: string } & (Prediction | { error: string }))[] = [];
    for (const file of files) {
      try {
        results.push({ file, ...predictAudio(staged, logMel, meta.labels, readWav(file), rule) });
      } catch (err) {
        // One bad file must not lose the answers for the others.
        const line = err instanceof BeeError ? err.oneLine() : `${file}: internal error: ${(err as Error).message}`;
        results.push({ file, error: line });
        if (!flags.json) process.stderr.write(`bee: ${line}\n`);
      }
    }
    staged.dispose();
    if (results.some((r) => 'error' in r)) process.exitCode = 1;
    if (flags.json) return printJson(results);
    const ok = results.filter((r): r is { file: string } & Prediction => !('error' in r));
    if (ok.length) {
      console.log(formatTable(['file', 'label', 'confidence', 'exit', 'ms', 'window'], ok.map((r) => [r.file, r.label, r.confidence.toFixed(3), String(r.exit), r.ms.toFixed(1), r.windows > 1 ? `${r.windowStart.toFixed(2)} s of ${r.windows}` : '-'])));
    }
  });
