import { initBackend } from '../backend/backend.js';
import { type Dataset, loadRecordedDataset } from '../data/dataset.js';
import type { FeatureTable } from '../data/feature-cache.js';
import type { SplitName } from '../data/split.js';
import { BeeError } from '../errors.js';
import { splitExamples, type SplitExamples } from '../data/split-examples.js';
import { openModel, type EngineName, type OpenedModel } from '../exits/open-model.js';
import { datasetFromFlags, type DatasetFlags } from './dataset-options.js';
import { loadFeaturesWithNotices } from './feature-input.js';
import { backendNotice } from './io.js';

export interface EvaluationFlags extends Omit<DatasetFlags, 'data'> {
  model: string;
  engine?: EngineName;
  data?: string;
  split: SplitName;
  cache?: string;
  cacheVerify?: boolean;
}

export interface EvaluationInput {
  model: OpenedModel;
  table: FeatureTable;
  examples: SplitExamples;
}

/** The model, and the features of the split to evaluate: --data, else the data the model was trained on. */
export async function loadEvaluationInput(flags: EvaluationFlags): Promise<EvaluationInput> {
  backendNotice(await initBackend());
  const model = await openModel(flags.model, flags.engine);
  let dataset: Dataset;
  if (flags.data) dataset = datasetFromFlags({ ...flags, data: flags.data });
  else if (model.data) dataset = loadRecordedDataset(model.data);
  else throw new BeeError('the model does not say what data it was trained on', { file: model.source, hint: 'pass --data DIR' });
  const table = await loadFeaturesWithNotices(dataset, model.features, flags);
  const examples = splitExamples(table, model.labels, flags.split);
  if (examples.rows.length === 0)
    throw new BeeError(`the ${flags.split} split is empty`, { file: dataset.root, hint: 'pick another --split, or check the split flags' });
  return { model, table, examples };
}
