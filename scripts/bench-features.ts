// Featurization throughput on a dataset, cold (computing on every core) and warm (from the cache).
//   npm run bench:features [-- --data DIR] [-- --workers N]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadDataset } from '../src/data/dataset.js';
import { loadFeatures } from '../src/data/feature-cache.js';
import { PAPER_FEATURES } from '../src/features/params.js';
import { numberOption } from './number-option.ts';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: path.resolve(import.meta.dirname, '..', '..', 'shared', 'data', 'speech-commands-v0.02-test') },
    workers: { type: 'string', default: String(os.availableParallelism()) },
  },
});
if (!fs.existsSync(values.data)) {
  console.error(`bench-features: no dataset at ${values.data} (pass --data DIR)`);
  process.exit(2);
}
const dataset = loadDataset(values.data, { split: { salt: 'bee' } });
const cacheDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-bench-cache-'));
const workers = numberOption(values.workers, '--workers', 'bench-features');
try {
  const cold = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir, workers });
  const warm = await loadFeatures(dataset, { params: PAPER_FEATURES, cacheDir, workers });
  const n = dataset.clips.length;
  const mb = (cold.features.byteLength / 2 ** 20).toFixed(0);
  console.log(`dataset: ${values.data} (${n} clips, ${cold.failed.length} unreadable), ${os.availableParallelism()} cores, ${workers} workers`);
  console.log(`cold: ${cold.stats.seconds.toFixed(2)} s, ${(n / cold.stats.seconds).toFixed(0)} clips/s (decode + resample + log-mel, cache write ${mb} MiB)`);
  console.log(`warm: ${warm.stats.seconds.toFixed(2)} s, ${(n / warm.stats.seconds).toFixed(0)} clips/s (${warm.stats.reused} reused from the cache)`);
} finally {
  fs.rmSync(cacheDir, { recursive: true, force: true });
}
