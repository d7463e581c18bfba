import { Command } from 'commander';
import { DEFAULT_SYNTH, synthesizeKeywords } from '../../synth/keywords.js';
import { printJson, progressBar } from '../io.js';
import { wholeNumber } from '../parsers.js';

export const dataSynthCommand = new Command('synth')
  .description('synthesize a keyword dataset offline (flite speech synthesis, in the Speech Commands test-set layout)')
  .requiredOption('--out <dir>', 'where the dataset goes (must not exist, unless --force)')
  .option('--seed <n>', 'seed: the same seed gives the same dataset, byte for byte', wholeNumber(0, 2 ** 32 - 1), DEFAULT_SYNTH.seed)
  .option('--speakers <n>', 'synthetic speakers (flite voice, pitch, rate, vocal tract)', wholeNumber(3, 10000), DEFAULT_SYNTH.speakers)
  .option('--takes <n>', 'takes of each command word per speaker (as many _unknown_ and _silence_ clips)', wholeNumber(1, 100), DEFAULT_SYNTH.takes)
  .option('--force', 'replace --out if it holds a dataset bee synthesized')
  .option('--json', 'print the manifest as JSON')
  .addHelpText(
    'after',
    `
Every clip is 1 s at 16 kHz: the 10 command words (yes no up down left right on off stop go),
_unknown_ from 25 other words, _silence_ from noise alone. Speakers are named like Speech Commands'
(8 hex digits) and chosen so that the default speaker split (validation 10%, test 20%) puts each
speaker in one split, at least one in each. Speech comes from flite (CMU, BSD-style licence), run
as WebAssembly. --force replaces a dataset bee synthesized, once the new one is complete.

Examples:
  $ bee data synth --out data/synth
  $ bee data synth --out data/synth-big --speakers 100 --takes 3 --seed 7
  $ bee train --data data/synth --width 0.5 --epochs 20`,
  )
  .action((flags: { out: string; seed: number; speakers: number; takes: number; force?: boolean; json?: boolean }) => {
    const started = performance.now();
    const bar = progressBar('synthesizing', flags.speakers * flags.takes * 12);
    const manifest = synthesizeKeywords(flags.out, { seed: flags.seed, speakers: flags.speakers, takes: flags.takes }, (done) => bar.update(done), flags.force);
    bar.stop();
    if (flags.json) return printJson({ out: flags.out, ...manifest });
    console.log(
      `wrote ${flags.out}: ${manifest.clips} clips, ${flags.speakers} speakers, ${Object.keys(manifest.perClass).length} classes in ${((performance.now() - started) / 1000).toFixed(0)} s`,
    );
    console.log(`next: bee data info --data ${flags.out}`);
  });
