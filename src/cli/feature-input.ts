import type { Dataset } from '../data/dataset.js';
import { loadFeatures, type FeatureTable } from '../data/feature-cache.js';
import type { FeatureParams } from '../features/params.js';
import { notice, progressBar } from './io.js';

/** A dataset's features with a progress bar, and the notices every command owes about them. */
export async function loadFeaturesWithNotices(
  dataset: Dataset,
  params: FeatureParams,
  cache: { cache?: string; cacheVerify?: boolean },
): Promise<FeatureTable> {
  const bar = progressBar('features', dataset.clips.length);
  const table = await loadFeatures(dataset, { params, cacheDir: cache.cache, verify: cache.cacheVerify, onProgress: (done) => bar.update(done) });
  bar.stop();
  if (table.stats.rebuilt) notice(`feature cache was ${table.stats.rebuilt}; rebuilt it`);
  if (table.stats.notSaved) notice(`feature cache not saved (${table.stats.notSaved}); features will be computed again next time`);
  if (table.failed.length) notice(`skipped ${table.failed.length} unreadable files (first: ${table.failed[0].file}: ${table.failed[0].reason})`);
  return table;
}
