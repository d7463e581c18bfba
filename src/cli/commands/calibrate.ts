import path from 'node:path';
import { Command } from 'commander';
import { initBackend } from '../../backend/backend.js';
import { type Dataset, findWavs, loadRecordedDataset } from '../../data/dataset.js';
import { isPackedFile, readPackedFile, writePackedFile } from '../../engine/packed-file.js';
import { BeeError } from '../../errors.js';
import { openModel } from '../../exits/open-model.js';
import { writeModelMeta } from '../../model/saved-model.js';
import { CALIBRATION_GRID } from '../../stream/rule-search.js';
import type { StreamRule } from '../../spec/stream-rule.js';
import { calibrateOnValidation } from '../../stream/validation-calibration.js';
import { addDatasetOptions, datasetFromFlags, type DatasetFlags } from '../dataset-options.js';
import { backendNotice, printJson, type Progress, progressBar } from '../io.js';
import { nonNegative, probability, streamHours, wholeNumber } from '../parsers.js';

interface CalibrateFlags extends Omit<DatasetFlags, 'data'> {
  model: string;
  data?: string;
  noiseDir?: string;
  falseAlarms: number;
  maxCompute: number;
  hours: number;
  hop: number;
  seed: number;
  dryRun?: boolean;
  json?: boolean;
}

export const calibrateCommand = addDatasetOptions(
  new Command('calibrate').description("pick a model's stream rule for a false-alarm rate on the validation split, and store it in the model"),
  false,
)
  .requiredOption('--model <path>', 'a model directory or a packed .bee file (rewritten in place, atomically)')
  .option('--noise-dir <dir>', "background-noise WAVs under both streams (default: the dataset's _background_noise_)")
  .option('--false-alarms <n>', 'false alarms an hour allowed on the negative stream', nonNegative, 0.5)
  .option('--max-compute <share>', "the most compute the rule may spend on the negative stream, as a share of the full network's", probability, 1)
  .option('--hours <h>', 'the negative stream: hours of noise, _unknown_ words and synthesized sentences (at most 10)', streamHours, 5)
  .option('--hop <ms>', 'a 1 s window every this many ms, as bee listen', wholeNumber(10, 1000), 100)
  .option('--seed <n>', 'the streams', wholeNumber(0, 2 ** 32 - 1), 1)
  .option('--dry-run', 'search and print, but leave the model as it is')
  .option('--json', 'print the result as JSON')
  .addHelpText(
    'after',
    `
Builds two streams from the validation split only (the test split stays unseen): its clips at
1-3 s gaps over the noise, as bee data stream --split validation, and --hours of audio with no
keyword, as bee data stream --negatives --split validation. The full network classifies every
window of both once; then every rule on a grid is replayed on them (one exit threshold for all
exits: ${CALIBRATION_GRID.thresholds.join(', ')}; the keyword exit; a hold of
${CALIBRATION_GRID.holdWindows.join(', ')} windows after one that names a keyword; smoothing over
${CALIBRATION_GRID.smoothWindows.join(', ')} windows; the detection threshold): of the rules with at
most --false-alarms an hour on the negative stream, the one with the most hits on the dense stream;
then keywords get thresholds of their own where that adds hits within the target. It is stored as
the model's stream rule (bee.json, or the .bee header): bee listen, stdin and bee web use it, and
bee listen's flags override its parts (docs/streams.md).

Examples:
  $ bee calibrate --model runs/sc --noise-dir ../shared/data/speech-commands-background-noise
  $ bee calibrate --model sc.bee --data DIR --split-salt bee --noise-dir NOISE --false-alarms 1 --hours 2
  $ bee calibrate --model runs/sc --dry-run --json | jq .rule`,
  )
  .action(async (flags: CalibrateFlags) => {
    backendNotice(await initBackend());
    const model = await openModel(flags.model, 'packed');
    let dataset: Dataset;
    if (flags.data) dataset = datasetFromFlags({ ...flags, data: flags.data });
    else if (model.data) dataset = loadRecordedDataset(model.data);
    else throw new BeeError('the model does not say what data it was trained on', { file: model.source, hint: 'pass --data DIR' });
    const noiseFiles = flags.noiseDir ? findWavs(path.resolve(flags.noiseDir)) : dataset.noiseFiles;
    if (!noiseFiles.length) throw new BeeError('no background-noise recordings', { file: flags.noiseDir ?? dataset.root, hint: 'pass --noise-dir DIR' });
    const bars: Partial<Record<'dense' | 'negatives', Progress>> = {};
    const { result, dense, negatives } = calibrateOnValidation(
      { classifier: model.classifier, labels: model.labels, features: model.features, exitCosts: model.exitCosts.map((e) => e.relativeMacs) },
      dataset,
      { noiseFiles, hours: flags.hours, target: flags.falseAlarms, maxCompute: flags.maxCompute, hopMs: flags.hop, seed: flags.seed },
      (stage, done, total) => {
        if (stage === 'negatives') bars.dense?.stop();
        bars[stage] ??= progressBar(stage === 'dense' ? 'dense stream' : 'negative stream', Math.round(total));
        bars[stage]?.update(Math.round(done));
      },
    );
    bars.dense?.stop();
    bars.negatives?.stop();
    model.classifier.dispose();
    if (!result)
      throw new BeeError(
        `no rule on the grid keeps the negative stream at ${flags.falseAlarms} false alarms an hour within ${flags.maxCompute} of the compute`,
        {
          file: model.source,
          hint: 'allow more --false-alarms or --max-compute, or train the model with more negatives',
        },
      );
    const rule: StreamRule = {
      ...result.rule,
      calibration: {
        targetFalseAlarmsPerHour: flags.falseAlarms,
        dense: `validation split, ${(dense.durationSeconds / 60).toFixed(1)} min, seed ${flags.seed}`,
        negatives: `validation split, ${(negatives.durationSeconds / 3600).toFixed(2)} h, seed ${flags.seed}`,
        hitRate: result.dense.hitRate,
        denseFalseAlarmsPerHour: result.dense.falseAlarmsPerHour,
        negativesFalseAlarmsPerHour: result.negatives.falseAlarmsPerHour,
        negativesComputeShare: result.negativesComputeShare,
        date: new Date().toISOString(),
      },
    };
    if (!flags.dryRun) {
      if (isPackedFile(model.source)) {
        const packed = readPackedFile(model.source);
        writePackedFile(model.source, { ...packed, header: { ...packed.header, stream: rule } });
      } else if (model.meta) writeModelMeta(model.source, { ...model.meta, stream: rule });
    }
    const out = {
      model: model.source,
      saved: !flags.dryRun,
      rule,
      dense: result.dense,
      negatives: result.negatives,
      byCompute: result.byCompute,
      rulesTried: result.tried,
    };
    if (flags.json) return printJson(out);
    const r = result.rule;
    const own = r.labelConfidence
      ? `; keywords' own: ${Object.entries(r.labelConfidence)
          .map(([l, t]) => `${l} ${t}`)
          .join(', ')}`
      : '';
    console.log(
      `stream rule: exit thresholds ${r.thresholds[0]}, keywords from exit ${r.keywordExit}, hold ${r.holdWindows ?? 0} windows, smoothing ${r.smoothWindows} windows, ` +
        `min confidence ${r.minConfidence}${own}, suppression ${r.suppressMs} ms (${result.tried} rules tried)`,
    );
    console.log(
      `validation streams: ${(100 * result.dense.hitRate).toFixed(1)}% hits at ${result.dense.falseAlarmsPerHour.toFixed(1)} false alarms an hour on the dense stream; ` +
        `${result.negatives.falseAlarmsPerHour.toFixed(2)} an hour and ${(100 * result.negativesComputeShare).toFixed(1)}% of the compute on ${(negatives.durationSeconds / 3600).toFixed(2)} h of negatives`,
    );
    console.log(
      `the trade (one threshold for all keywords): ${result.byCompute
        .map((c) => `${c.hitRate === null ? 'none' : `${(100 * c.hitRate).toFixed(1)}%`} within ${c.maxCompute}`)
        .join(', ')} of the compute on the negatives`,
    );
    console.log(flags.dryRun ? 'not saved (--dry-run)' : `saved in ${model.source}`);
  });
