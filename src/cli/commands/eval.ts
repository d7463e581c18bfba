import { Command } from 'commander';
import { evaluateEarlyExit } from '../../exits/evaluate.js';
import { addEvaluationOptions, addRuleOptions, describeRule, ruleFromFlags } from '../exit-options.js';
import { type EvaluationFlags, loadEvaluationInput } from '../evaluation-input.js';
import { printJson, progressBar } from '../io.js';
import { formatTable } from '../table.js';

const pct = (x: number | null) => (x === null ? '-' : `${(100 * x).toFixed(1)}%`);

export const evalCommand = addRuleOptions(
  addEvaluationOptions(new Command('eval').description('early-exit inference, batch size one, block by block: accuracy, exits, compute, latency')),
)
  .option('--json', 'print JSON')
  .addHelpText(
    'after',
    `
Each example runs block by block; after block k, exit k's softmax decides: stop at the first
confident exit, else run the next block; exit 4 always answers. Only the blocks needed are run.

Examples:
  $ bee eval --model runs/sc --threshold 0.85
  $ bee eval --model runs/sc --threshold 1            # never early: exit 4's accuracy
  $ bee eval --model runs/sc.bee --threshold 0.85     # the packed engine (bee export)
  $ bee eval --model runs/sc --engine packed          # packed in memory from the directory
  $ bee eval --model runs/sc --entropy 0.2 --split validation
  $ bee eval --model runs/sc --threshold 0.9,0.85,0.8 --json | jq .accuracy`,
  )
  .action(async (flags: EvaluationFlags & { threshold?: string; entropy?: string; json?: boolean }) => {
    ruleFromFlags(flags); // its values checked before any heavy work, their count once the model is read
    const { model, table, examples } = await loadEvaluationInput(flags);
    const rule = ruleFromFlags(flags, model.exitCosts.length);
    const bar = progressBar('evaluating', examples.rows.length);
    const report = evaluateEarlyExit(
      model.classifier,
      table,
      examples,
      model.labels,
      rule,
      model.exitCosts.map((e) => e.relativeMacs),
      (done) => bar.update(done),
    );
    bar.stop();
    model.classifier.dispose();
    const { temperatures } = model.classifier;
    if (flags.json)
      return printJson({
        model: model.source,
        engine: model.engine,
        split: flags.split,
        criterion: rule.criterion,
        thresholds: rule.thresholds,
        temperatures,
        ...report,
      });

    const r = report;
    console.log(`${model.source} (${model.precision}, ${model.engine} engine), ${flags.split} split: ${r.samples} clips, stop at ${describeRule(rule)}`);
    console.log(
      `accuracy ${pct(r.accuracy)}  mean exit ${r.meanExit.toFixed(2)} ± ${r.stdExit.toFixed(2)}  compute ${(100 * r.relativeCompute).toFixed(1)}% of the full network (${r.speedup.toFixed(2)}x)`,
    );
    if (r.latencyMs)
      console.log(`latency per clip: median ${r.latencyMs.median.toFixed(2)} ms, p95 ${r.latencyMs.p95.toFixed(2)} ms (batch 1, ${model.engine} engine)`);
    console.log('');
    console.log(
      formatTable(
        ['exit', 'left here', 'accuracy there', 'accuracy on all', 'ECE', 'MACs to reach'],
        r.perExit.map((e) => [
          String(e.exit),
          `${e.count} (${pct(e.count / r.samples)})`,
          pct(e.accuracyExited),
          pct(e.accuracyAll),
          e.ece.toFixed(3),
          pct(e.relativeMacs),
        ]),
      ),
    );
    console.log('');
    console.log(
      formatTable(
        ['class', 'clips', 'accuracy', 'mean exit', 'mean confidence'],
        [...r.perClass]
          .sort((a, b) => (b.meanExit ?? 0) - (a.meanExit ?? 0))
          .map((c) => [c.label, String(c.count), pct(c.accuracy), c.meanExit?.toFixed(2) ?? '-', c.meanConfidence?.toFixed(3) ?? '-']),
      ),
    );
    console.log('\nconfusion (rows: true class, columns: predicted)');
    const labels = r.confusion.labels;
    console.log(
      formatTable(
        ['', ...labels.map((_, i) => String(i))],
        r.confusion.matrix.map((row, i) => [`${i} ${labels[i]}`, ...row.map(String)]),
      ),
    );
  });
