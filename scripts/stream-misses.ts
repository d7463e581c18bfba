// Why a spotter misses the words it misses on a stream (docs/streams.md, *Where the misses are*):
// each missed word of the truth, over the windows that could have detected it (ending within its
// span plus bee listen's tolerance), is put in the first kind that fits:
//   confused:   the full network names another label in every such window (never this word)
//   early:      the full network names it, but every window where it does left early (as
//               _silence_/_unknown_: the rule never saw the word named)
//   diluted:    the rule saw it named, under its threshold after smoothing, and some windows where
//               the full network names it left early (their quiet answers went into the mean)
//   threshold:  the rule saw every window that names it, and stayed under its threshold
//   other:      the rule reached its threshold and still did not report it (suppressed after a detection)
// Score on the validation split's streams (scripts/stream-ablate.ts writes them): the test split's
// are for the final figures only.
//   node --import tsx scripts/stream-misses.ts --model data/pretrained/sc12.bee \
//     --stream runs/stream-ablate-cw/streams/validation.wav --truth runs/stream-ablate-cw/streams/validation.csv [--json]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { readWav } from '../src/audio/wav.js';
import { openModel } from '../src/exits/open-model.js';
import { argmax, neverEarly } from '../src/spec/exit-rules.js';
import { QUIET_LABELS } from '../src/spec/labels.js';
import { defaultStreamRule, exitRuleOf } from '../src/spec/stream-rule.js';
import { type DetectionRule, detectionRuleOf, Smoother, type WindowAnswer } from '../src/stream/detector.js';
import { Listener } from '../src/stream/listener.js';
import { HIT_TOLERANCE_S, parseTruthCsv, scoreStream } from '../src/stream/score.js';

const { values: args } = parseArgs({
  options: { model: { type: 'string' }, stream: { type: 'string' }, truth: { type: 'string' }, json: { type: 'boolean' } },
});
if (!args.model || !args.stream || !args.truth) throw new Error('usage: scripts/stream-misses.ts --model M --stream S.wav --truth S.csv [--json]');

const model = await openModel(args.model, 'fastest');
const { labels, features } = model;
const exits = model.classifier.exits;
const streamRule = model.stream ?? defaultStreamRule(exits);
const detection: DetectionRule = detectionRuleOf(streamRule);
const { samples } = readWav(args.stream);
const truth = parseTruthCsv(fs.readFileSync(args.truth, 'utf8'), args.truth).filter((t) => !QUIET_LABELS.includes(t.label));

/** Every window's answer under a rule (the listener at bee listen's hop). */
function answersOf(rule: ReturnType<typeof exitRuleOf>): { answers: WindowAnswer[]; listener: Listener } {
  const listener = new Listener(model.classifier, labels, features, {
    exitCosts: Array(exits).fill(0),
    hopMs: 100,
    rule,
    holdWindows: streamRule.holdWindows,
    detection,
    keepAnswers: true,
  });
  listener.push(samples);
  listener.finish();
  return { answers: listener.answers, listener };
}
const shipped = answersOf(exitRuleOf(streamRule, labels));
const full = answersOf(neverEarly(exits)).answers;
const score = scoreStream(shipped.listener.detections, truth, samples.length / features.sampleRate, () => true);

// the smoothed confidence the rule saw in every window, and which label was on top
const smoother = new Smoother(labels.length, detection.smoothWindows);
const smoothed = shipped.answers.map((a) => smoother.push(a.probabilities));
const threshold = (label: string) => detection.labelConfidence?.[label] ?? detection.minConfidence;

const hitWords = new Set<number>();
for (const d of shipped.listener.detections) {
  const i = truth.findIndex((w, k) => !hitWords.has(k) && w.label === d.label && d.time >= w.start && d.time <= w.end + HIT_TOLERANCE_S);
  if (i >= 0) hitWords.add(i);
}
const kinds = { confused: 0, early: 0, diluted: 0, threshold: 0, other: 0 };
const confusedAs: Record<string, number> = {};
truth.forEach((word, i) => {
  if (hitWords.has(i)) return;
  const label = labels.indexOf(word.label);
  const span = shipped.answers.map((_, k) => k).filter((k) => shipped.answers[k].time >= word.start && shipped.answers[k].time <= word.end + HIT_TOLERANCE_S);
  const named = span.filter((k) => argmax(full[k].probabilities) === label);
  if (!named.length) {
    kinds.confused++;
    const other = labels[argmax(full[span[Math.floor(span.length / 2)]]?.probabilities ?? [])] ?? 'none';
    confusedAs[other] = (confusedAs[other] ?? 0) + 1;
  } else if (named.every((k) => shipped.answers[k].exit < streamRule.keywordExit)) kinds.early++;
  else if (span.some((k) => smoothed[k].top === label && smoothed[k].confidence >= threshold(word.label))) kinds.other++;
  else if (named.some((k) => shipped.answers[k].exit < streamRule.keywordExit)) kinds.diluted++;
  else kinds.threshold++;
});
const report = { model: args.model, stream: args.stream, words: score.words, hits: score.hits, misses: score.misses, kinds, confusedAs };
if (args.json) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`${args.stream}: ${score.hits} of ${score.words} words detected, ${score.misses} missed`);
  for (const [kind, n] of Object.entries(kinds))
    console.log(`  ${kind.padEnd(9)} ${String(n).padStart(4)}  ${((100 * n) / Math.max(1, score.misses)).toFixed(1)}% of the misses`);
  console.log(
    `  confused (full network, mid-word): ${Object.entries(confusedAs)
      .sort((a, b) => b[1] - a[1])
      .map(([l, n]) => `${l} ${n}`)
      .join(', ')}`,
  );
}
