import type { FeatureTable } from '../data/feature-cache.js';
import { splitExamples } from '../data/split-examples.js';
import { BeeError } from '../errors.js';
import type { EarlyExitClassifier } from '../spec/classifier.js';
import { fitTemperature } from '../spec/temperature.js';

/** Each exit's temperature, fitted on the validation split's logits (bee sweep --calibrate). */
export function fitExitTemperatures(classifier: EarlyExitClassifier, table: FeatureTable, labels: string[]): number[] {
  const validation = splitExamples(table, labels, 'validation');
  if (validation.rows.length === 0) throw new BeeError('the validation split is empty: nothing to calibrate on', { hint: 'check the split flags' });
  return classifier.exitOutputs(table, validation.rows, 'logits').map((l) => fitTemperature(l, validation.labels, labels.length));
}
