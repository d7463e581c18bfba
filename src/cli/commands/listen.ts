import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { initBackend } from '../../backend/backend.js';
import { BeeError } from '../../errors.js';
import { openModel, type EngineName } from '../../exits/open-model.js';
import { modelOrPretrained } from '../../exits/pretrained.js';
import { describeError, readRegularFile } from '../../util/read-file.js';
import type { Detection } from '../../stream/detector.js';
import { QUIET_LABELS } from '../../spec/labels.js';
import { defaultStreamRule, exitRuleOf, type StreamRule } from '../../spec/stream-rule.js';
import { detectionRuleOf } from '../../stream/detector.js';
import { Listener } from '../../stream/listener.js';
import type { PcmFormat } from '../../stream/pcm.js';
import { feedPcm, feedWavFile } from '../../stream/sources.js';
import { rocSvg } from '../../report/plot.js';
import { FIXED_FALSE_ALARM_RATES, hitRateAtFalseAlarms, movedTo, streamRoc } from '../../stream/roc.js';
import { parseTruthCsv, scoreStream, type TruthEvent } from '../../stream/score.js';
import { writeFileAtomic } from '../../util/atomic.js';
import { makeDir } from '../../util/make-dir.js';
import { addModelOptions, addRuleOptions, ruleFromFlags } from '../exit-options.js';
import { parseThresholds } from '../../spec/exit-rules.js';
import { backendNotice, notice, stopOnInterrupt } from '../io.js';
import { nonNegative, probability, wholeNumber } from '../parsers.js';

interface ListenFlags {
  model?: string;
  engine?: EngineName;
  threshold?: string;
  entropy?: string;
  hop: number;
  keywordExit?: number;
  minConfidence?: number;
  suppress?: number;
  smooth?: number;
  hold?: number;
  reportAll?: boolean;
  format: PcmFormat;
  rate: number;
  channels: number;
  truth?: string;
  roc?: string;
  json?: boolean;
}

export const listenCommand = addRuleOptions(
  addModelOptions(
    new Command('listen')
      .description('spot keywords in a stream: a WAV of any length, or raw PCM on stdin (-), window by window with early exit')
      .argument('<input>', 'a WAV file, or - for raw PCM on stdin (--format, --rate, --channels)'),
    true,
  ),
)
  .option('--hop <ms>', 'a 1 s window every this many ms (a multiple of 10)', wholeNumber(10, 1000), 100)
  .option(
    '--keyword-exit <k>',
    "the first exit that may answer with a keyword; before it a window stops only on _silence_/_unknown_ (default: the model's stream rule, else 1)",
    wholeNumber(1, 6),
  )
  .option(
    '--min-confidence <p>',
    "a detection needs the smoothed probability of its label to reach p (default: the model's stream rule, else 0.7; keywords with thresholds of their own move with it)",
    probability,
  )
  .option('--suppress <ms>', "no detection within this many ms of the previous one (default: the model's, else 1000)", nonNegative)
  .option('--smooth <windows>', "average the probabilities of this many recent windows, 1: none (default: the model's, else 3)", wholeNumber(1, 100))
  .option(
    '--hold <windows>',
    "after a window that names a keyword, run every exit for this many windows (default: the model's stream rule, else 0)",
    wholeNumber(0, 100),
  )
  .option('--report-all', `report ${QUIET_LABELS.join(' and ')} too`)
  .addOption(new Option('--format <f>', 'raw PCM on stdin: 16-bit or float32 little-endian').choices(['s16le', 'f32le']).default('s16le'))
  .option('--rate <hz>', "raw PCM on stdin: its sample rate (the model's, 16000)", wholeNumber(1), 16000)
  .option('--channels <n>', 'raw PCM on stdin: interleaved channels, mixed to mono', wholeNumber(1, 16), 1)
  .option('--truth <csv>', 'score the detections against this truth (start,end,label; bee data stream writes one)')
  .option('--roc <dir>', 'with --truth: write roc.json and roc.svg, hit rate against false alarms per hour over thresholds')
  .option('--json', 'one JSON object a line: each detection, then the summary')
  .addHelpText(
    'after',
    `
Each window is classified with early exit, then the detection rule: the mean of the last --smooth
windows' probabilities names a label (not _silence_ or _unknown_ unless --report-all) with at
least --min-confidence, and --suppress ms have passed since the last one; its time is the end of
the window. The rule is the model's stream rule (bee calibrate picks one for a false-alarm rate
and stores it in the model; --json's summary holds the one that ran); each flag overrides
its part. With --keyword-exit K, exits before K may stop a window only on _silence_/_unknown_
(their probability together >= the exit's threshold): a keyword is confirmed by exit K or later.
With --hold N, the N windows after one that names a keyword run every exit, so that a word is not
averaged with its own windows' early quiet answers.

The summary gives the audio's duration, the real-time factor (seconds of audio per second of
processing), windows per exit and the compute share (MACs spent / MACs of every window through
the full network); with --truth, hits, misses, false alarms per hour, the mean delay from a
word's start to its detection, and the hit rate at 0.5, 1, 5 and 20 false alarms an hour, read
off the ROC over --min-confidence (hitRateAtFalseAlarmsPerHour; null: not reached).

Examples:
  $ bee listen recording.wav                      # the pretrained model (bee info)
  $ bee listen recording.wav --model runs/sc.bee
  $ arecord -f S16_LE -r 16000 -c 1 -t raw | bee listen - --model runs/sc.bee
  $ bee data stream --data DIR --split test --noise-dir NOISE --out stream.wav
  $ bee listen stream.wav --model runs/sc.bee --truth stream.csv --roc runs/roc --json | tail -1
  $ bee listen stream.wav --keyword-exit 4 --min-confidence 0.9 --truth stream.csv`,
  )
  .action(async (input: string, flags: ListenFlags) => {
    if (flags.roc && !flags.truth) throw new BeeError('--roc scores against the truth', { hint: 'pass --truth FILE.csv too' });
    const truth = flags.truth ? parseTruthCsv(readRegularFile(flags.truth, 4 * 1024 * 1024).toString('utf8'), flags.truth) : null;
    // side files are checked before the work, not after an hour of it
    if (flags.roc) checkOutputDir(flags.roc);
    backendNotice(await initBackend());
    const modelPath = modelOrPretrained(flags.model);
    const model = await openModel(modelPath, flags.engine ?? 'fastest');
    const exits = model.classifier.exits;
    const streamRule = ruleOfFlags(model.stream ?? defaultStreamRule(exits), flags, exits, modelPath);
    const rule = flags.entropy !== undefined ? ruleFromFlags(flags, exits) : exitRuleOf(streamRule, model.labels);
    const { sampleRate, frameStep } = model.features;
    if (((flags.hop * sampleRate) / 1000) % frameStep !== 0)
      throw new BeeError(`--hop ${flags.hop}: the model's frames are ${(1000 * frameStep) / sampleRate} ms apart, and a hop must be a whole number of them`, {
        file: modelPath,
      });
    if (input === '-' && flags.rate !== sampleRate)
      throw new BeeError(`stdin at ${flags.rate} Hz: the model reads ${sampleRate} Hz`, {
        hint: `resample it first, e.g. arecord -r ${sampleRate} or sox ... -r ${sampleRate}`,
      });
    const detection = detectionRuleOf(streamRule, flags.reportAll);
    const reportable = (l: string) => !detection.ignore.has(l);
    const scored = flags.truth && truth ? scorableTruth(truth, model.labels, reportable, flags.truth) : null;
    const print = (d: Detection) => {
      if (flags.json) console.log(JSON.stringify({ type: 'detection', ...d }));
      else console.log(`${d.time.toFixed(2).padStart(8)} s  ${printable(d.label).padEnd(10)} ${d.confidence.toFixed(3)}  exit ${d.exit}`);
    };
    const listener = new Listener(model.classifier, model.labels, model.features, {
      exitCosts: model.exitCosts.map((e) => e.relativeMacs),
      keepAnswers: Boolean(truth),
      hopMs: flags.hop,
      rule,
      holdWindows: streamRule.holdWindows,
      detection,
      onDetection: print,
    });
    // Ctrl-C (or SIGTERM) ends the input; the summary and the score still come (exit code 130).
    const stopped = stopOnInterrupt(undefined, () => {
      if (input === '-') process.stdin.destroy();
    }, ['SIGINT', 'SIGTERM']);
    const sink = { push: (x: Float32Array) => listener.push(x), stopped };
    let stray = 0;
    try {
      if (input === '-') stray = await feedPcm(process.stdin, flags.format, flags.channels, sink);
      else await feedWavFile(input, sampleRate, sink, flags.hop / 1000);
    } catch (err) {
      // a destroyed stdin ends its iteration with an error: after a signal that is the end of the input
      if (!stopped()) throw err;
    }
    listener.finish();
    model.classifier.dispose();
    const { calibration, ...used } = streamRule;
    const summary: Record<string, unknown> = { type: 'summary', ...listener.summary(), streamRule: used };
    const duration = summary.durationSeconds as number;
    if (duration === 0 && !stopped())
      throw new BeeError(input === '-' ? 'stdin held no audio' : 'the WAV file holds no samples', { file: input === '-' ? undefined : input });
    let sideFileError: unknown;
    if (scored) {
      const kept = scored.within(duration);
      const points = streamRoc(model.labels, detection, listener.answers, kept, duration);
      Object.assign(summary, scoreStream(listener.detections, kept, duration, reportable), { hitRateAtFalseAlarmsPerHour: hitRateAtFalseAlarms(points) });
      if (flags.roc) {
        try {
          writeFileAtomic(path.join(flags.roc, 'roc.json'), `${JSON.stringify(points, null, 2)}\n`);
          writeFileAtomic(
            path.join(flags.roc, 'roc.svg'),
            rocSvg(
              points,
              `${path.basename(input)}: ${points.length} thresholds of --min-confidence`,
              summary.hitRateAtFalseAlarmsPerHour as Record<string, number | null>,
            ),
          );
        } catch (err) {
          sideFileError = err;
        }
      }
    }
    if (flags.json) console.log(JSON.stringify(summary));
    else printSummary(summary);
    if (stray) {
      process.exitCode = 1;
      process.stderr.write(`bee: stdin ended inside a sample frame (${stray} stray bytes): the stream was cut, or --format/--channels are wrong\n`);
    }
    if (sideFileError) {
      process.exitCode = 1;
      const e = sideFileError as NodeJS.ErrnoException;
      process.stderr.write(`bee: ${flags.roc}: cannot write the ROC: ${e.code ? describeError(e) : e.message} (check free disk space and permissions)\n`);
    }
    if (stopped()) process.exitCode = 130;
  });

/** A directory for side files: one that exists or can be made, and can be written. */
function checkOutputDir(dir: string): void {
  makeDir(dir, '--roc directory');
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch (err) {
    throw new BeeError(`cannot write: ${describeError(err)}`, { file: dir, hint: 'pick another --roc directory' });
  }
  for (const name of ['roc.json', 'roc.svg']) {
    const file = path.join(dir, name);
    if (fs.existsSync(file) && !fs.statSync(file).isFile()) throw new BeeError('is not a file', { file, hint: 'pick another --roc directory' });
  }
}

/**
 * The truth rows bee listen can score: a row whose label the model has no class for (or has in
 * another case: `YES` for `yes`) can never be hit, and a row that starts after the audio ends can
 * never be heard; each kind is left out with one line on stderr, instead of counting as misses.
 */
function scorableTruth(truth: TruthEvent[], labels: string[], reportable: (l: string) => boolean, file: string) {
  const known = new Set(labels);
  const foreign = truth.filter((t) => !known.has(t.label));
  if (foreign.length) {
    const names = [...new Set(foreign.map((t) => t.label))];
    const cased = names.filter((n) => labels.some((l) => l.toLowerCase() === n.toLowerCase()));
    notice(
      `${file}: ${foreign.length} truth row${foreign.length > 1 ? 's' : ''} name${foreign.length > 1 ? '' : 's'} labels the model has no class for ` +
        `(${names.slice(0, 5).map(printable).join(', ')}${names.length > 5 ? ', ...' : ''}${cased.length ? '; labels are case-sensitive' : ''}): left out of the score`,
    );
  }
  const scorable = truth.filter((t) => known.has(t.label));
  return {
    within(duration: number): TruthEvent[] {
      const late = scorable.filter((t) => t.start >= duration && reportable(t.label));
      if (late.length)
        notice(
          `${file}: ${late.length} truth row${late.length > 1 ? 's start' : ' starts'} after the audio ends (${duration.toFixed(1)} s): left out of the score`,
        );
      return scorable.filter((t) => t.start < duration);
    },
  };
}

/** A label from a model file as the terminal shows it: control characters escaped. */
function printable(label: string): string {
  return JSON.stringify(label).slice(1, -1);
}

/** The model's stream rule with what the flags override (--threshold: the exits' thresholds). */
function ruleOfFlags(base: StreamRule, flags: ListenFlags, exits: number, modelPath: string): StreamRule {
  if (flags.keywordExit !== undefined && flags.keywordExit > exits)
    throw new BeeError(`--keyword-exit ${flags.keywordExit}: the model has ${exits} exits`, { file: modelPath, hint: `pass 1..${exits}` });
  return {
    // --min-confidence moves the keywords' own thresholds with it (as the ROC does)
    ...(flags.minConfidence !== undefined ? movedTo(base, flags.minConfidence) : base),
    ...(flags.threshold !== undefined ? { thresholds: parseThresholds(flags.threshold, exits) } : {}),
    ...(flags.keywordExit !== undefined ? { keywordExit: flags.keywordExit } : {}),
    ...(flags.smooth !== undefined ? { smoothWindows: flags.smooth } : {}),
    ...(flags.hold !== undefined ? { holdWindows: flags.hold } : {}),
    ...(flags.suppress !== undefined ? { suppressMs: flags.suppress } : {}),
  };
}

function printSummary(s: Record<string, unknown>): void {
  const n = (k: string, digits = 1) => (s[k] as number).toFixed(digits);
  console.log(
    `${n('durationSeconds')} s of audio, ${s.windows} windows, windows per exit ${(s.windowsPerExit as number[]).join(' / ')}, ` +
      `compute ${(100 * (s.computeShare as number)).toFixed(1)}% of the full network's, ${n('realTimeFactor', 0)}x real time; ${s.detections} detections`,
  );
  if (s.words !== undefined) {
    const delay = s.meanDelayMs === null ? '-' : `${(s.meanDelayMs as number).toFixed(0)} ms`;
    const words = s.words
      ? `${s.hits} of ${s.words} words hit (${(100 * (s.hitRate as number)).toFixed(1)}%), ${s.misses} missed, `
      : 'no keyword in the truth: ';
    console.log(`truth: ${words}${s.falseAlarms} false alarms (${n('falseAlarmsPerHour')} an hour), mean delay ${delay}`);
    if (s.words) {
      const at = s.hitRateAtFalseAlarmsPerHour as Record<string, number | null>;
      const fixed = FIXED_FALSE_ALARM_RATES.map((rate) => {
        const hit = at[String(rate)];
        return `${hit === null ? 'not reached' : `${(100 * hit).toFixed(1)}%`} at ${rate}`;
      }).join(', ');
      console.log(`hit rate at false alarms an hour (along the ROC over --min-confidence): ${fixed}`);
    }
  }
}
