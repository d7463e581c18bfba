import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { loadDataset, UNKNOWN } from '../src/data/dataset.ts';
import { engineFor } from '../src/engine/engine-for.ts';
import { packModel } from '../src/convert/pack.ts';
import { type ExitRule, shouldExit } from '../src/spec/exit-rules.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import type { ModelMeta } from '../src/model/saved-model.ts';
import { networkConfig } from '../src/model/network.ts';
import { replayExits, searchStreamRule, type StreamPass } from '../src/stream/rule-search.ts';
import { exitRuleOf, streamRuleProblem } from '../src/spec/stream-rule.ts';
import { calibrateOnValidation } from '../src/stream/validation-calibration.ts';
import { ExitSchedule } from '../src/stream/exit-schedule.ts';
import { tempDir } from './helpers/datasets.ts';
import { logMelLike, randomNetwork } from './helpers/random-network.ts';
import { makeToneDataset, writeHum } from './helpers/tones.ts';

const LABELS = ['_silence_', '_unknown_', 'yes'];

test('class-aware exits: before the keyword exit a window stops only on the quiet classes', () => {
  const rule = exitRuleOf({ thresholds: [0.6, 0.6], keywordExit: 3, minConfidence: 0.5, smoothWindows: 1, suppressMs: 0 }, LABELS);
  assert.deepEqual(rule.quiet, { classes: [0, 1], keywordExit: 3 });
  assert.equal(shouldExit([0.4, 0.3, 0.3], 1, 3, rule), true, 'silence and unknown together 0.7 >= 0.6');
  assert.equal(shouldExit([0.05, 0.05, 0.9], 1, 3, rule), false, 'a confident keyword goes on');
  assert.equal(shouldExit([0.05, 0.05, 0.9], 2, 3, rule), false, 'and on, to exit 3');
  assert.equal(shouldExit([0.05, 0.05, 0.9], 3, 3, rule), true, 'the last exit answers');
  const anyExit = exitRuleOf({ thresholds: [0.6, 0.6], keywordExit: 1, minConfidence: 0.5, smoothWindows: 1, suppressMs: 0 }, LABELS);
  assert.equal(anyExit.quiet, undefined);
  assert.equal(shouldExit([0.05, 0.05, 0.9], 1, 3, anyExit), true);
  assert.match(streamRuleProblem({ thresholds: [0.5], keywordExit: 1, minConfidence: 0.5, smoothWindows: 1, suppressMs: 0 }, 3) ?? '', /2 numbers/);
  assert.match(streamRuleProblem({ thresholds: [0.5, 0.5], keywordExit: 4, minConfidence: 0.5, smoothWindows: 1, suppressMs: 0 }, 3) ?? '', /keywordExit/);
  assert.equal(streamRuleProblem({ thresholds: [0.5, 0.5], keywordExit: 3, minConfidence: 0.5, smoothWindows: 1, suppressMs: 0 }, 3), undefined);
});

/** A pass of 2-exit answers, one window a second: [exit 1, exit 2] softmax per window. */
function pass(windows: [number[], number[]][], truth: StreamPass['truth']): StreamPass {
  return {
    times: windows.map((_, i) => i + 1),
    probs: windows.map(([a, b]) => [Float32Array.from(a), Float32Array.from(b)]),
    durationSeconds: 3600,
    truth,
  };
}

test('the rule search: exit 1 is overconfident on noise, so keywords are confirmed at exit 2', () => {
  const quiet: [number[], number[]] = [
    [0.9, 0.05, 0.05],
    [0.9, 0.05, 0.05],
  ];
  const word: [number[], number[]] = [
    [0.02, 0.02, 0.96],
    [0.02, 0.03, 0.95],
  ];
  // exit 1 fires "yes" on a noise burst; exit 2 knows better
  const burst: [number[], number[]] = [
    [0.01, 0.01, 0.98],
    [0.7, 0.2, 0.1],
  ];
  const dense = pass(
    [quiet, word, quiet, quiet, word, quiet],
    [
      { start: 1.5, end: 2, label: 'yes' },
      { start: 4.5, end: 5, label: 'yes' },
    ],
  );
  const negatives = pass([quiet, burst, quiet, quiet, burst, quiet, burst, quiet], []);
  const costs = [0.4, 1];
  const found = searchStreamRule(LABELS, costs, dense, negatives, 0);
  assert.ok(found);
  assert.equal(found.rule.keywordExit, 2, 'keywords from exit 2');
  assert.equal(found.dense.hits, 2);
  assert.equal(found.negatives.falseAlarms, 0);
  assert.ok(found.tried > 100);
  // the noise windows leave at exit 1; only the bursts go on
  const { answers, computeShare } = replayExits(negatives, found.rule, LABELS, costs);
  assert.deepEqual(
    answers.map((a) => a.exit),
    [1, 2, 1, 1, 2, 1, 2, 1],
  );
  assert.ok(Math.abs(computeShare - (5 * 0.4 + 3) / 8) < 1e-12);
  // without quiet classes nothing holds a keyword back: the only quiet rule hears nothing
  const blind = searchStreamRule(['no', 'yes', 'go'], costs, dense, negatives, 0);
  assert.equal(blind?.rule.keywordExit, 1);
  assert.equal(blind?.dense.hits, 0);
  assert.equal(searchStreamRule(['no', 'yes', 'go'], costs, dense, negatives, -1), null, 'no rule meets an impossible target');
});

test('calibration on the validation split reads no test-split clip', () => {
  const root = tempDir('bee-calibrate-');
  makeToneDataset(root, [UNKNOWN, 'high', 'low'], 12, 2);
  const noise = writeHum(path.join(root, 'noise.wav'), 3);
  const dataset = loadDataset(root, { split: { salt: 'bee', validationPercent: 25, testPercent: 25 } });
  const test = dataset.clips.filter((c) => c.split === 'test');
  assert.ok(test.length > 0);
  for (const c of test) fs.rmSync(c.file); // any read of a test clip now fails
  const config = networkConfig({ arch: 'reactnet', inputShape: [98, 64, 1], classes: 3, width: 0.25, seed: 1 });
  const model = randomNetwork({ arch: 'reactnet', width: 0.25, classes: 3 }, 1, logMelLike(4, 1));
  const meta = { labels: dataset.classes, features: PAPER_FEATURES, network: config } as ModelMeta;
  const classifier = engineFor(packModel(model, meta).packed);
  model.dispose();
  const calibrated = calibrateOnValidation({ classifier, labels: dataset.classes, features: PAPER_FEATURES, exitCosts: [0.2, 0.4, 0.7, 1] }, dataset, {
    noiseFiles: [noise],
    hours: 0.005,
    target: Infinity,
    hopMs: 100,
    seed: 1,
    voices: 1,
  });
  const validation = dataset.clips.filter((c) => c.split === 'validation');
  assert.equal(calibrated.dense.truth.length, validation.length, 'the dense stream: every validation clip');
  assert.ok(Math.abs(calibrated.negatives.durationSeconds - 18) < 0.01);
  assert.ok(calibrated.result, 'a rule is found where any number of false alarms is allowed');
  assert.equal(calibrated.dense.probs[0].length, 4, 'every exit of every window');
});

test('the rule search gives a keyword a threshold of its own where one threshold for all cannot both hear and stay quiet', () => {
  const labels = ['_silence_', '_unknown_', 'yes', 'left'];
  const quiet: [number[], number[]] = [
    [0.9, 0.1, 0, 0],
    [0.9, 0.1, 0, 0],
  ];
  const yes: [number[], number[]] = [
    [0.02, 0.02, 0.96, 0],
    [0.02, 0.02, 0.96, 0],
  ];
  const left: [number[], number[]] = [
    [0, 0, 0.001, 0.999],
    [0, 0, 0.001, 0.999],
  ];
  // "learn" in the negatives: left at 0.975, surer than any yes
  const learn: [number[], number[]] = [
    [0.01, 0.015, 0, 0.975],
    [0.01, 0.015, 0, 0.975],
  ];
  const dense = pass(
    [quiet, yes, quiet, quiet, left, quiet],
    [
      { start: 1.5, end: 2, label: 'yes' },
      { start: 4.5, end: 5, label: 'left' },
    ],
  );
  const negatives = pass([quiet, learn, quiet, quiet, learn, quiet], []);
  const found = searchStreamRule(labels, [0.5, 1], dense, negatives, 0);
  assert.ok(found);
  assert.equal(found.dense.hits, 2, 'both words');
  assert.equal(found.negatives.falseAlarms, 0);
  const own = found.rule.labelConfidence ?? {};
  assert.ok((own.left ?? found.rule.minConfidence) > 0.975 && (own.yes ?? found.rule.minConfidence) <= 0.96, JSON.stringify(found.rule));
});

test('the hold: after a window that names a keyword, the next windows run every exit; the replay and the search agree', () => {
  const classAware: ExitRule = { criterion: 'max-softmax', thresholds: [0.6], quiet: { classes: [0, 1], keywordExit: 2 } };
  const schedule = new ExitSchedule(classAware, LABELS, 2, 2);
  const rules = [0, 1, 2, 2, 0, 0].map((top) => {
    const rule = schedule.next();
    schedule.answered(top);
    return rule === classAware ? 'rule' : 'full';
  });
  assert.deepEqual(rules, ['rule', 'rule', 'rule', 'full', 'full', 'full'], 'two windows after each keyword answer (yes: class 2)');

  // a word whose first window names it, weakly, and whose next windows are quiet to exit 1 (as
  // quiet as quiet) but not to exit 2; the negatives hold the same weak onset alone, so only a
  // word's tail, heard by exit 2, tells them apart
  const quiet: [number[], number[]] = [
    [0.9, 0.05, 0.05],
    [0.9, 0.05, 0.05],
  ];
  const onset: [number[], number[]] = [
    [0.02, 0.02, 0.96],
    [0.2, 0.2, 0.6],
  ];
  const tail: [number[], number[]] = [
    [0.9, 0.05, 0.05],
    [0.1, 0.1, 0.8],
  ];
  const dense = pass(
    [quiet, onset, tail, tail, quiet, quiet, onset, tail, tail, quiet],
    [
      { start: 1.5, end: 4, label: 'yes' },
      { start: 6.5, end: 9, label: 'yes' },
    ],
  );
  const rule = { thresholds: [0.6], keywordExit: 2, minConfidence: 0.85, smoothWindows: 3, suppressMs: 0 };
  const costs = [0.4, 1];
  assert.deepEqual(
    replayExits(dense, rule, LABELS, costs).answers.map((a) => a.exit),
    [1, 2, 1, 1, 1, 1, 2, 1, 1, 1],
  );
  const held = replayExits(dense, { ...rule, holdWindows: 2 }, LABELS, costs);
  assert.deepEqual(
    held.answers.map((a) => a.exit),
    [1, 2, 2, 2, 2, 2, 2, 2, 2, 2],
    'the tail is heard by exit 2; the hold ends two windows after the last keyword answer',
  );
  const negatives = pass([quiet, onset, quiet, quiet, quiet, onset, quiet, quiet], []);
  const found = searchStreamRule(LABELS, costs, dense, negatives, 0);
  assert.ok(found);
  assert.ok((found.rule.holdWindows ?? 0) > 0, 'the search holds where it pays');
  assert.equal(found.dense.hits, 2);
  assert.equal(found.negatives.falseAlarms, 0);
  assert.equal(streamRuleProblem({ ...rule, holdWindows: -1 }, 2), 'stream.holdWindows must be a whole number in 0..100');
});
