import { Command } from 'commander';
import { summarizeDataset } from '../../data/dataset-summary.js';
import { PAPER_FEATURES } from '../../features/params.js';
import { addDatasetOptions, datasetFromFlags, type DatasetFlags } from '../dataset-options.js';
import { notice, printJson, progressBar } from '../io.js';
import { formatTable } from '../table.js';

export const dataInfoCommand = addDatasetOptions(new Command('info').description('classes, clips and speakers per split, durations, skipped files'))
  .option('--json', 'print JSON')
  .addHelpText(
    'after',
    `
Examples:
  $ bee data info --data ../shared/data/speech-commands-v0.02-test --split-salt bee
  $ bee data info --data data/speech_commands_v0.02 --json | jq .splits`,
  )
  .action((flags: DatasetFlags & { json?: boolean }) => {
    const dataset = datasetFromFlags(flags);
    const bar = progressBar('checking', dataset.clips.length);
    const summary = summarizeDataset(dataset, PAPER_FEATURES.clipSamples / PAPER_FEATURES.sampleRate, (done) => bar.update(done));
    bar.stop();
    for (const w of summary.warnings) notice(`warning: ${w}`);
    if (flags.json) return printJson(summary);

    const s = summary;
    const splitHow =
      s.split.method === 'lists'
        ? 'official lists'
        : `speaker hash${s.split.salt !== undefined ? ` (salt '${s.split.salt}')` : ''}, validation ${s.split.validationPercent}%, test ${s.split.testPercent}%`;
    console.log(`${s.root} (${s.layout} layout)`);
    console.log(`${s.clips} clips, ${s.speakers} speakers, ${s.classes.length} classes; split by ${splitHow}`);
    console.log(`speakers in more than one split: ${s.sharedSpeakers}`);
    console.log('');
    const head = ['class', 'train', 'validation', 'test', 'total'];
    const rows = [
      ...s.classes.map((c) => [c, ...(['train', 'validation', 'test', 'total'] as const).map((k) => String(s.perClass[c][k]))]),
      ['all', String(s.splits.train.clips), String(s.splits.validation.clips), String(s.splits.test.clips), String(s.clips)],
      ['speakers', String(s.splits.train.speakers), String(s.splits.validation.speakers), String(s.splits.test.speakers), String(s.speakers)],
    ];
    console.log(formatTable(head, rows));
    console.log('');
    const d = s.durations;
    console.log(
      `durations: ${d.min.toFixed(3)}-${d.max.toFixed(3)} s, mean ${d.mean.toFixed(3)} s; ${d.shorterThanClip} shorter than 1 s (centre-padded), ${d.longerThanClip} longer (centre-cropped)`,
    );
    console.log(
      `sample rates: ${Object.entries(s.sampleRates)
        .map(([r, n]) => `${r} Hz x ${n}`)
        .join(', ')}; background-noise files: ${s.noiseFiles}`,
    );
    console.log(`skipped files: ${s.skipped.length}`);
    for (const { file, reason } of s.skipped) console.log(`  ${file}: ${reason}`);
  });
