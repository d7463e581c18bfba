// The model bee ships (data/pretrained/sc12.bee), a spotter: the default network with the stream
// recipe (the default recipe plus noise at 0-30 dB SNR, 10% of words cut half out of the window as
// _unknown_, +20% synthesized sentences as _unknown_; docs/streams.md), 50 epochs, seed 1, on the
// train split (--split-salt bee: 3,646 clips) of the shared Speech Commands v0.02 test set with its
// background noise, then packed, and its stream rule calibrated on the validation split's streams
// (bee calibrate: at most 0.5 false alarms an hour on 5 hours of negatives, at most 0.2 of the
// compute there). Its split's test clips stay unseen and can score it; the official test set
// cannot (the model has seen most of it).
//   node --import tsx scripts/pretrained.ts --data DIR --noise-dir DIR [--out runs/pretrained]
//   node --import tsx scripts/pretrained.ts --data DIR --noise-dir DIR --from runs/pretrained   # a run already trained
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { data: { type: 'string' }, 'noise-dir': { type: 'string' }, out: { type: 'string', default: 'runs/pretrained' }, from: { type: 'string' } },
});
const bee = (...args: string[]) => {
  const r = spawnSync(process.execPath, [path.resolve('bin/bee.js'), ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`bee ${args.join(' ')} exited with ${r.status}`);
};
if (!values.data || !values['noise-dir']) throw new Error('usage: scripts/pretrained.ts --data DIR --noise-dir DIR [--out runs/pretrained | --from RUN]');
const data = ['--data', values.data, '--split-salt', 'bee', '--noise-dir', values['noise-dir']];
let run = values.from;
if (!run) {
  run = values.out!;
  bee('train', ...data, '--epochs', '50', '--seed', '1', '--noise-snr', '0,30', '--cut-words', '0.1', '--synth-negatives', '0.2', '--out', run);
}
const model = 'data/pretrained/sc12.bee';
bee('export', '--model', run, '--out', model, '--force');
bee('calibrate', '--model', model, ...data, '--false-alarms', '0.5', '--max-compute', '0.2', '--hours', '5');
bee('eval', '--model', model, '--split', 'test');
