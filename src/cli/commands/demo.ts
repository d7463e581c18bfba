import { Command } from 'commander';
import { initBackend } from '../../backend/backend.js';
import { DEFAULT_DEMO, DEMO_TIMED_THRESHOLD, runDemo } from '../../demo/demo.js';
import { BeeError } from '../../errors.js';
import { backendNotice, notice, printJson, progressBar, stopOnInterrupt, type Progress } from '../io.js';
import { positiveNumber, wholeNumber } from '../parsers.js';
import { formatTable, kib } from '../table.js';
import { epochLine } from '../epoch-line.js';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** A heading, then indented lines of two left-aligned columns. */
function columns(heading: string, rows: [string, string][]): string {
  const width = Math.max(...rows.map(([a]) => a.length));
  return [heading, ...rows.map(([a, b]) => `  ${a.padEnd(width)}  # ${b}`)].join('\n');
}

interface DemoFlags {
  out: string;
  epochs: number;
  width: number;
  speakers: number;
  takes: number;
  seed: number;
  cache?: string;
  json?: boolean;
}

export const demoCommand = new Command('demo')
  .description('the whole job offline, in minutes: synthesize keywords, train, evaluate early exit, plot, pack')
  .option('--out <dir>', 'where everything goes (a previous demo there is replaced; its dataset reused)', 'demo')
  .option('--epochs <n>', 'training epochs', wholeNumber(1), DEFAULT_DEMO.epochs)
  .option('--width <x>', "channel multiplier of the default architecture's stage widths", positiveNumber, DEFAULT_DEMO.width)
  .option('--speakers <n>', 'synthetic speakers', wholeNumber(3, 10000), DEFAULT_DEMO.synth.speakers)
  .option('--takes <n>', 'takes of each word per speaker', wholeNumber(1, 100), DEFAULT_DEMO.synth.takes)
  .option('--seed <n>', 'seed of the dataset and of the training run', wholeNumber(0, 2 ** 32 - 1), DEFAULT_DEMO.seed)
  .option('--cache <dir>', 'feature cache directory (default: $BEE_CACHE_DIR or ~/.cache/bee)')
  .option('--json', 'print the results as JSON')
  .addHelpText(
    'after',
    `
No data and no internet needed: bee data synth makes a 12-class keyword dataset with an offline
speech synthesizer (kept in OUT/data and reused), bee train trains a binary early-exit network on
it, the test split is swept over thresholds (OUT/sweep/sweep.svg is the trade-off plot), the
model is packed (OUT/model.bee) and early exit is timed on tfjs and on the packed engine. OUT
must be new, empty, or an earlier demo's (marked by OUT/.bee-demo): then its run is replaced.

Examples:
  $ bee demo
  $ npm run demo
  $ bee demo --out /tmp/demo --epochs 10 --speakers 20      # quicker, rougher`,
  )
  .action(async (flags: DemoFlags) => {
    backendNotice(await initBackend());
    let stopRequested = () => false;
    let bar: Progress | undefined;
    const startBar = (label: string, total?: number) => {
      bar?.stop();
      bar = total ? progressBar(label, total) : undefined;
    };
    const result = await runDemo(
      {
        ...DEFAULT_DEMO,
        out: flags.out,
        epochs: flags.epochs,
        width: flags.width,
        seed: flags.seed,
        cacheDir: flags.cache,
        synth: { seed: flags.seed, speakers: flags.speakers, takes: flags.takes },
      },
      {
        onStage: (stage, total) => {
          if (stage === 'train') {
            notice(`training a binary early-exit network, width ${flags.width}, ${flags.epochs} epochs`);
            // Until now Ctrl-C simply ends the process; in training it stops after the step.
            stopRequested = stopOnInterrupt('stopping after this step (Ctrl-C again to quit now)');
          }
          startBar(stage === 'synthesize' ? 'synthesizing' : stage, total);
        },
        onProgress: (done) => bar?.update(done),
        onStatus: notice,
        onEpochStart: (epoch, steps) => startBar(`epoch ${epoch}/${flags.epochs}`, steps),
        onBatch: (b) => bar?.update(b.step),
        onEpochEnd: (record) => {
          startBar('');
          process.stderr.write(`${epochLine(record, flags.epochs)}\n`);
        },
        shouldStop: () => stopRequested(),
      },
    ).catch((err) => {
      if (!stopRequested()) throw err;
      process.exitCode = 130;
      notice(err instanceof BeeError ? err.oneLine() : String(err));
    });
    bar?.stop();
    if (!result) return;
    if (flags.json) return printJson(result);

    const { timed, bytes } = result;
    const [t, p] = [timed.tfjs.latencyMs!, timed.packed.latencyMs!];
    console.log(
      `\nbee demo: ${result.clips} synthesized clips${result.dataCached ? ' (reused)' : ''}, a binary network trained ${flags.epochs} epochs, ${result.seconds.toFixed(0)} s in all`,
    );
    console.log(`test split, ${result.testClips} clips; accuracy of each exit on every clip: ${result.exitAccuracy.map(pct).join(' / ')}\n`);
    console.log(
      formatTable(
        ['stop at max softmax >=', 'accuracy', 'mean exit', 'compute'],
        result.thresholds.map((r) => [String(r.threshold), pct(r.accuracy), r.meanExit.toFixed(2), pct(r.relativeCompute)]),
      ),
    );
    console.log(
      `\nearly exit at ${DEMO_TIMED_THRESHOLD}, batch 1: tfjs median ${t.median.toFixed(2)} ms, packed engine median ${p.median.toFixed(2)} ms (${(t.median / p.median).toFixed(1)}x faster);`,
    );
    console.log(
      `model: ${kib(bytes.floatWeights)} of float weights, ${kib(bytes.packed)} packed (${(bytes.floatWeights / bytes.packed).toFixed(1)}x smaller)\n`,
    );
    const plot = result.sweepFiles.find((f) => f.endsWith('.svg'))!;
    console.log(
      columns('wrote:', [
        [result.data, 'the synthesized dataset'],
        [result.run, 'the training run: checkpoints (best/, last/), metrics.jsonl'],
        [result.packed, 'the packed model (bee export)'],
        [plot, 'the speed/accuracy trade-off plot (with sweep.csv, sweep.json)'],
      ]),
    );
    console.log(
      columns('\nnext:', [
        [`bee eval --model ${result.run} --threshold 0.9`, 'accuracy, exits and latency at a threshold'],
        [`bee predict my-recording.wav --model ${result.packed}`, 'your own recordings'],
        ['bee data download speech-commands', 'the real data (2.4 GB), then:'],
        ['bee train --data data/speech_commands_v0.02 --epochs 50', "the paper's setting"],
      ]),
    );
  });
