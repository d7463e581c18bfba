// The model bee ships (data/pretrained/sc12.bee): the default recipe, 50 epochs, seed 1, on the
// train split (--split-salt bee: 3,646 clips) of the shared Speech Commands v0.02 test set with its
// background noise, then packed. Its split's test clips stay unseen and can score it; the
// official test set cannot (the model has seen most of it).
//   node --import tsx scripts/pretrained.ts --data DIR --noise-dir DIR [--out runs/pretrained]
//   node --import tsx scripts/pretrained.ts --from runs/pretrained     # pack a run already trained
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
let run = values.from;
if (!run) {
  if (!values.data || !values['noise-dir']) throw new Error('usage: scripts/pretrained.ts --data DIR --noise-dir DIR [--out runs/pretrained] | --from RUN');
  run = values.out!;
  bee('train', '--data', values.data, '--split-salt', 'bee', '--noise-dir', values['noise-dir'], '--epochs', '50', '--seed', '1', '--out', run);
}
bee('export', '--model', run, '--out', 'data/pretrained/sc12.bee', '--force');
bee('eval', '--model', 'data/pretrained/sc12.bee', '--split', 'test');
