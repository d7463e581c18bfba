import { Command } from 'commander';
import { initBackend } from '../../backend/backend.js';
import { packModel } from '../../convert/pack.js';
import { checkExportTarget, writePackedFile } from '../../engine/packed-file.js';
import { floatWeightsBytes, loadModelDir, resolveModelDir } from '../../model/saved-model.js';
import { backendNotice, printJson } from '../io.js';
import { kib } from '../table.js';

export const exportCommand = new Command('export')
  .description("pack a trained binary model for bee's bit-packed engine: 1-bit weights, BatchNorm folded into thresholds")
  .requiredOption('--model <dir>', 'a model directory, or a bee train --out directory (its best checkpoint)')
  .requiredOption('--out <file>', 'the packed model to write (FILE.bee)')
  .option('--force', 'replace --out even if it is not a packed model (never a file of --model)')
  .option('--json', 'print JSON')
  .addHelpText(
    'after',
    `
The packed file holds the sign bits of every binary kernel (32 to a word, along the input
channels), each BatchNorm + sign folded into a per-channel threshold and flip bit, and the first
block's convolutions (real input) and the exit heads exactly; labels, feature parameters and
calibration come along. docs/packed-format.md describes it. bee eval, sweep and predict run it
with --model FILE.bee; so can any program, through the library's BlockEngine (no TensorFlow).

Examples:
  $ bee export --model runs/sc --out sc.bee
  $ bee eval --model sc.bee --threshold 0.85
  $ bee export --model runs/sc/checkpoints/epoch-0010 --out sc-10.bee --json`,
  )
  .action(async (flags: { model: string; out: string; force?: boolean; json?: boolean }) => {
    backendNotice(await initBackend());
    checkExportTarget(flags.out, resolveModelDir(flags.model), flags.force);
    const { model, meta, dir } = await loadModelDir(flags.model);
    const { packed, report } = packModel(model, meta, dir);
    model.dispose();
    const bytes = writePackedFile(flags.out, packed);
    const floatBytes = floatWeightsBytes(dir);
    const result = {
      model: dir,
      out: flags.out,
      bytes,
      floatWeightsBytes: floatBytes,
      ratio: floatBytes / bytes,
      labels: meta.labels,
      temperatures: packed.header.temperatures,
      ...report,
    };
    if (flags.json) return printJson(result);
    console.log(`wrote ${flags.out}: ${kib(bytes)}, ${result.ratio.toFixed(1)}x smaller than the float weights (${kib(floatBytes)})`);
    if (report.constantChannels) console.log(`${report.constantChannels} channels are constant (their BatchNorm + sign is the same for every input)`);
    console.log(`next: bee eval --model ${flags.out} --threshold 0.85`);
  });
