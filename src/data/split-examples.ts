import { BeeError } from '../errors.js';
import type { FeatureTable } from './feature-cache.js';
import type { SplitName } from './split.js';

/** The examples of one split: feature-table rows and their labels as indices into a model's labels. */
export interface SplitExamples {
  rows: number[];
  labels: Int32Array;
}

export function splitExamples(table: FeatureTable, labels: string[], split: SplitName): SplitExamples {
  const rows = table.clips.flatMap((c, i) => (c.split === split ? [i] : []));
  return {
    rows,
    labels: Int32Array.from(rows, (r) => {
      const index = labels.indexOf(table.clips[r].label);
      if (index < 0) {
        throw new BeeError(`the data has class '${table.clips[r].label}', which the model does not know`, {
          file: table.clips[r].file,
          hint: `the model's classes: ${labels.join(', ')}`,
        });
      }
      return index;
    }),
  };
}
