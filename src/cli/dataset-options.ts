import { type Command, InvalidArgumentError, Option } from 'commander';
import { decimal } from '../util/decimal.js';
import { loadDataset, type ClassSet, type Dataset } from '../data/dataset.js';

export interface DatasetFlags {
  data: string;
  splitSalt?: string;
  validationPercent: number;
  testPercent: number;
  classes: ClassSet;
  hashSplit?: boolean;
  /** bee train's --hard-negatives */
  hardNegatives?: string;
}

export const percent = (value: string): number => {
  const n = decimal(value);
  if (!(n >= 0 && n <= 100)) throw new InvalidArgumentError(`expected a percentage in [0, 100], got '${value}'`);
  return n;
};

/** The flags every command that reads a dataset shares. */
export function addDatasetOptions(command: Command, dataRequired = true): Command {
  const data = new Option('--data <dir>', 'dataset: one folder per class, or the Speech Commands archive');
  return command
    .addOption(dataRequired ? data.makeOptionMandatory() : data)
    .option('--split-salt <salt>', 'deal speakers into splits anew by hashing salt + speaker id')
    .option('--validation-percent <n>', 'share of speakers in the validation split', percent, 10)
    .option('--test-percent <n>', 'share of speakers in the test split', percent, 20)
    .option('--hash-split', 'split by speaker hash even where official lists exist')
    .addOption(new Option('--classes <set>', 'Speech Commands archive: TFDS 12 classes or all 35 words').choices(['tfds12', 'all']).default('tfds12'));
}

export function datasetFromFlags(flags: DatasetFlags): Dataset {
  return loadDataset(flags.data, {
    split: { salt: flags.splitSalt, validationPercent: flags.validationPercent, testPercent: flags.testPercent },
    classSet: flags.classes,
    hashSplit: flags.hashSplit,
    hardNegatives: flags.hardNegatives,
  });
}
