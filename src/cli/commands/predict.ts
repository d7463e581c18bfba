import { Command } from 'commander';
import { readWav } from '../../audio/wav.js';
import { initBackend } from '../../backend/backend.js';
import { BeeError } from '../../errors.js';
import { openModel, type EngineName } from '../../exits/open-model.js';
import { predictAudio, type Prediction } from '../../exits/predict.js';
import { modelOrPretrained } from '../../exits/pretrained.js';
import { LogMel } from '../../features/logmel.js';
import { addModelOptions, addRuleOptions, ruleFromFlags } from '../exit-options.js';
import { backendNotice, printJson } from '../io.js';
import { formatTable } from '../table.js';

export const predictCommand = addRuleOptions(
  addModelOptions(
    new Command('predict')
      .description('classify recordings with early exit: label, confidence, the exit used, the time taken')
      .argument('<files...>', 'WAV files (any sample rate and length)'),
    true,
  ),
)
  .option('--json', 'print JSON')
  .addHelpText(
    'after',
    `
A recording up to 1 s is centre-padded, as in training. A longer one is read in half-overlapping
1 s windows and the most confident window answers (its start is reported).

Examples:
  $ bee predict yes.wav                       # the pretrained model (bee info)
  $ bee predict yes.wav no.wav --model runs/sc
  $ bee predict long-recording.wav --model runs/sc --threshold 0.9 --json
  $ bee predict yes.wav --model runs/sc.bee          # the packed engine (bee export)`,
  )
  .action(async (files: string[], flags: { model?: string; engine?: EngineName; threshold?: string; entropy?: string; json?: boolean }) => {
    ruleFromFlags(flags); // its values checked before anything is read, their count once the model is
    backendNotice(await initBackend());
    const model = await openModel(modelOrPretrained(flags.model), flags.engine);
    const rule = ruleFromFlags(flags, model.exitCosts.length);
    const logMel = new LogMel(model.features);
    const results: ({ file: string } & (Prediction | { error: string }))[] = [];
    for (const file of files) {
      try {
        results.push({ file, ...predictAudio(model.classifier, logMel, model.labels, readWav(file), rule) });
      } catch (err) {
        // One bad file must not lose the answers for the others.
        const line = err instanceof BeeError ? err.oneLine() : `${file}: internal error: ${(err as Error).message}`;
        results.push({ file, error: line });
        process.stderr.write(`bee: ${line}\n`); // with --json too: a script reads stdout, a person stderr
      }
    }
    model.classifier.dispose();
    if (results.some((r) => 'error' in r)) process.exitCode = 1;
    if (flags.json) return printJson(results);
    const ok = results.filter((r): r is { file: string } & Prediction => !('error' in r));
    if (ok.length) {
      console.log(
        formatTable(
          ['file', 'label', 'confidence', 'exit', 'ms', 'window'],
          ok.map((r) => [
            r.file,
            r.label,
            r.confidence.toFixed(3),
            String(r.exit),
            r.ms.toFixed(1),
            r.windows > 1 ? `${r.windowStart.toFixed(2)} s of ${r.windows}` : '-',
          ]),
        ),
      );
    }
  });
