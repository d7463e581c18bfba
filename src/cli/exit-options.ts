import { type Command, Option } from 'commander';
import { BeeError } from '../errors.js';
import { ENGINES } from '../exits/open-model.js';
import { parseThresholds, type ExitRule } from '../spec/exit-rules.js';
import { addDatasetOptions } from './dataset-options.js';

/** --model and --engine: which model, run by what; with `pretrained`, --model defaults to the model bee ships. */
export function addModelOptions(command: Command, pretrained = false): Command {
  const what = 'a model directory, a bee train --out directory (its best checkpoint), or a packed .bee file';
  return (
    pretrained ? command.option('--model <path>', `${what} (default: the pretrained model, bee info)`) : command.requiredOption('--model <path>', what)
  ).addOption(
    new Option('--engine <name>', `tfjs, or packed: bee's bit-packed engine (default: ${pretrained ? 'packed' : 'packed for a .bee file, else tfjs'})`).choices(
      ENGINES,
    ),
  );
}

/** --model, --engine, the dataset flags (defaulting to the model's training data) and --split. */
export function addEvaluationOptions(command: Command): Command {
  return addDatasetOptions(addModelOptions(command), false)
    .addOption(new Option('--split <name>', 'which split to evaluate').choices(['train', 'validation', 'test']).default('test'))
    .option('--cache <dir>', 'feature cache directory (default: $BEE_CACHE_DIR or ~/.cache/bee)')
    .option('--cache-verify', "reuse a clip's cached features only if the file's content is unchanged (hashes every file), not just its size and mtime");
}

/** --threshold (max-softmax) or --entropy, as an exit rule. */
export function addRuleOptions(command: Command): Command {
  return command
    .option('--threshold <t>', 'stop at the first exit whose max softmax >= t (1: never early); or one per exit: t1,t2,t3')
    .option('--entropy <t>', 'stop at the first exit whose normalized entropy H(p)/ln(classes) <= t; or t1,t2,t3');
}

/** The exit rule of --threshold or --entropy for a model of `exits` exits; without it, the values checked alone (before reading the model). */
export function ruleFromFlags(flags: { threshold?: string; entropy?: string }, exits?: number): ExitRule {
  if (flags.threshold !== undefined && flags.entropy !== undefined) {
    throw new BeeError('pass --threshold or --entropy, not both');
  }
  if (flags.entropy !== undefined) return { criterion: 'entropy', thresholds: parseThresholds(flags.entropy, exits, '--entropy') };
  return { criterion: 'max-softmax', thresholds: parseThresholds(flags.threshold ?? '0.85', exits) };
}

export function describeRule(rule: ExitRule): string {
  const t = new Set(rule.thresholds).size === 1 ? String(rule.thresholds[0]) : rule.thresholds.join(',');
  return rule.criterion === 'entropy' ? `normalized entropy <= ${t}` : `max softmax >= ${t}`;
}
