// The models bee ships (data/pretrained/), both the default network with the stream recipe (the
// default recipe plus noise at 0-30 dB SNR, 10% of words cut half out of the window as _unknown_,
// +20% synthesized sentences as _unknown_; docs/streams.md), 50 epochs, seed 1, on the train split
// (--split-salt bee: 3,646 clips) of the shared Speech Commands v0.02 test set with its background
// noise, packed, and their stream rules calibrated on the validation split's streams (bee calibrate:
// at most 0.5 false alarms an hour on 5 hours of negatives, at most 0.2 of the compute there):
// - sc12-base.bee, the transfer base (bee train --from, the page's "add a word"): that recipe alone;
// - sc12.bee, the spotter: that recipe again with hard negatives, --rounds times: each round, a
//   5-hour negative stream of the train split (seed 2 + round) is mined by the model before (the
//   base, then the last round's spotter), and the spotter trains on every round's windows.
// Every step leaves its output under --out and is skipped where that output exists, so an
// interrupted run goes on where it stopped. The split's test clips stay unseen and can score the
// models; the official test set cannot (they have seen most of it).
//   node --import tsx scripts/pretrained.ts --data DIR --noise-dir DIR [--out runs/pretrained] [--rounds 1]
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { numberOption } from './number-option.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string' },
    'noise-dir': { type: 'string' },
    out: { type: 'string', default: 'runs/pretrained' },
    rounds: { type: 'string', default: '1' },
  },
});
if (!values.data || !values['noise-dir']) throw new Error('usage: scripts/pretrained.ts --data DIR --noise-dir DIR [--out runs/pretrained] [--rounds 1]');
const rounds = numberOption(values.rounds, '--rounds', 'scripts/pretrained.ts');
if (!Number.isInteger(rounds) || rounds < 0) throw new Error(`--rounds must be a whole number, got ${values.rounds}`);
const bee = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.resolve('bin/bee.js'), ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bee ${args.join(' ')} exited with ${r.status}`);
};
const data = ['--data', values.data, '--split-salt', 'bee', '--noise-dir', values['noise-dir']];
const recipe = ['--epochs', '50', '--seed', '1', '--noise-snr', '0,30', '--cut-words', '0.1', '--synth-negatives', '0.2'];
const out = (name: string) => path.join(values.out!, name);
const negatives = out('negatives');

/** Trains a run (or resumes one cut short), then packs and calibrates it as OUT/NAME.bee. */
function trainAndPack(name: string, extra: string[]): string {
  const packed = out(`${name}.bee`);
  if (fs.existsSync(packed)) return packed;
  const run = out(name);
  if (!fs.existsSync(path.join(run, 'best'))) bee('train', ...data, ...recipe, ...extra, '--out', run);
  bee('export', '--model', run, '--out', packed);
  bee('calibrate', '--model', packed, ...data, '--false-alarms', '0.5', '--max-compute', '0.2', '--hours', '5');
  return packed;
}

let model = trainAndPack('base', []);
fs.copyFileSync(model, 'data/pretrained/sc12-base.bee');
for (let round = 1; round <= rounds; round++) {
  const mined = path.join(negatives, `round-${round}`);
  if (!fs.existsSync(mined)) {
    const stream = out(`streams/round-${round}.wav`);
    bee('data', 'stream', ...data, '--split', 'train', '--negatives', '--hours', '5', '--seed', String(2 + round), '--out', stream, '--force');
    bee('data', 'mine', stream, '--model', model, '--out', mined);
  }
  model = trainAndPack(`spotter-${round}`, ['--hard-negatives', negatives]);
}
fs.copyFileSync(model, 'data/pretrained/sc12.bee');
bee('eval', '--model', 'data/pretrained/sc12.bee', '--split', 'test');
