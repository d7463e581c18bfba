// Parsing command-line flags.
import { before, test } from 'node:test';
import { assertOneLineError, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { toneRun } from './helpers/tone-run.ts';

// A regression test from the hostile-input pass (issue 11), on a tiny trained run (helpers/tone-run.ts).
const cache = tempDir('bee-cache-');
const bee = beeWithCache(cache);
let root: string;
let run: string; // a trained run directory
before(async () => {
  ({ root, run } = await toneRun(cache));
});

test('flags: infinite, empty, hexadecimal numbers are refused, each naming its own flag', () => {
  assertOneLineError(bee('train', '--data', root, '--lr', '1e309'), /--lr <rate>' argument '1e309' is invalid\. expected a finite number > 0/);
  assertOneLineError(bee('train', '--data', root, '--exit-weights', '1e309,1,1,1'), /--exit-weights.*expected one finite number >= 0 per exit/);
  assertOneLineError(bee('train', '--data', root, '--exit-weights', ',,,'), /--exit-weights.*expected one finite number >= 0 per exit/);
  assertOneLineError(bee('train', '--data', root, '--epochs', '0x10'), /--epochs <n>' argument '0x10' is invalid/);
  assertOneLineError(bee('train', '--data', root, '--validation-percent', ''), /--validation-percent/);
  assertOneLineError(bee('eval', '--model', run, '--entropy', '2'), /--entropy '2' is not in \[0, 1\] \(e\.g\. --entropy 0\.3/);
  assertOneLineError(bee('eval', '--model', run, '--threshold', '0x1'), /--threshold '0x1' is not in \[0, 1\]/);
});
