import fs from 'node:fs';
import { Command } from 'commander';
import { BeeError } from '../../errors.js';
import { DEFAULT_SYNTH, readSynthManifest, synthesizeKeywords } from '../../synth/keywords.js';
import { printJson, progressBar } from '../io.js';
import { wholeNumber } from '../parsers.js';

export const dataSynthCommand = new Command('synth')
  .description('synthesize a keyword dataset offline (flite speech synthesis, in the Speech Commands test-set layout)')
  .requiredOption('--out <dir>', 'where the dataset goes (must not exist, unless --force)')
  .option('--seed <n>', 'seed: the same seed gives the same dataset, byte for byte', wholeNumber(0), DEFAULT_SYNTH.seed)
  .option('--speakers <n>', 'synthetic speakers (flite voice, pitch, rate, vocal tract)', wholeNumber(1, 10000), DEFAULT_SYNTH.speakers)
  .option('--takes <n>', 'takes of each command word per speaker (as many _unknown_ and _silence_ clips)', wholeNumber(1, 100), DEFAULT_SYNTH.takes)
  .option('--force', 'replace --out if it holds a dataset bee synthesized')
  .option('--json', 'print the manifest as JSON')
  .addHelpText('after', `
Every clip is 1 s at 16 kHz: the 10 command words (yes no up down left right on off stop go),
_unknown_ from 25 other words, _silence_ from noise alone. Speakers are named like Speech Commands'
(8 hex digits) and chosen so that the default speaker split (validation 10%, test 20%) keeps each
voice in one split. Speech comes from flite (CMU, BSD-style licence), run as WebAssembly.

Examples:
  $ bee data synth --out data/synth
  $ bee data synth --out data/synth-big --speakers 100 --takes 3 --seed 7
  $ bee train --data data/synth --width 0.5 --epochs 20`)
  .action((flags: { out: string; seed: number; speakers: number; takes: number; force?: boolean; json?: boolean }) => {
    if (flags.force && fs.existsSync(flags.out)) {
      if (!readSynthManifest(flags.out)) throw new BeeError('exists and is not a dataset bee synthesized: not replacing it', { file: flags.out, hint: 'pick another --out' });
      fs.rmSync(flags.out, { recursive: true });
    }
    const started = performance.now();
    const bar = progressBar('synthesizing', flags.speakers * flags.takes * 12);
    const manifest = synthesizeKeywords(flags.out, { seed: flags.seed, speakers: flags.speakers, takes: flags.takes }, (done) => bar.update(done));
    bar.stop();
    if (flags.json) return printJson({ out: flags.out, ...manifest });
    console.log(`wrote ${flags.out}: ${manifest.clips} clips, ${flags.speakers} speakers, ${Object.keys(manifest.perClass).length} classes in ${((performance.now() - started) / 1000).toFixed(0)} s`);
    console.log(`next: bee data info --data ${flags.out}`);
  });
