import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hitRateAtFalseAlarms, movedTo, ROC_CONFIDENCES, streamRoc } from '../src/stream/roc.ts';

const point = (falseAlarmsPerHour: number, hitRate: number) => ({ falseAlarmsPerHour, hitRate });

test('hit rate at fixed false-alarm rates: interpolated on the ROC, by hand', () => {
  // strictest to loosest: 0.8 FA/h at 50%, 2 at 60%, 10 at 80%, 40 at 90%
  const roc = [point(40, 0.9), point(2, 0.6), point(10, 0.8), point(0.8, 0.5)];
  const at = hitRateAtFalseAlarms(roc);
  assert.equal(at['0.5'], null, 'not reached: the strictest point raises 0.8 an hour');
  // 1 an hour: between (0.8, 0.5) and (2, 0.6): 0.5 + 0.1 * 0.2 / 1.2
  assert.ok(Math.abs((at['1'] as number) - (0.5 + (0.1 * 0.2) / 1.2)) < 1e-12);
  // 5: between (2, 0.6) and (10, 0.8): 0.6 + 0.2 * 3 / 8 = 0.675
  assert.ok(Math.abs((at['5'] as number) - 0.675) < 1e-12);
  // 20: between (10, 0.8) and (40, 0.9): 0.8 + 0.1 / 3
  assert.ok(Math.abs((at['20'] as number) - (0.8 + 0.1 / 3)) < 1e-12);
  assert.deepEqual(Object.keys(at).sort(), ['0.5', '1', '20', '5']);
});

test('hit rate at fixed false-alarm rates: the upper envelope, a rate on a point, beyond the last point', () => {
  // a looser threshold that loses hits (suppression) does not lower the curve
  const roc = [point(0, 0.3), point(5, 0.7), point(6, 0.6), point(12, 0.65)];
  const at = hitRateAtFalseAlarms(roc, [0, 5, 6, 100]);
  assert.equal(at['0'], 0.3);
  assert.equal(at['5'], 0.7, 'a rate on a point is its hit rate');
  assert.equal(at['6'], 0.7, 'the envelope keeps the best hit rate at fewer false alarms');
  assert.equal(at['100'], 0.7, 'beyond the loosest point: the best reached');
  assert.deepEqual(hitRateAtFalseAlarms([], [1]), { '1': null });
  // two points at the same rate: the better one
  assert.equal(hitRateAtFalseAlarms([point(1, 0.2), point(1, 0.4)], [1])['1'], 0.4);
});

test('the ROC visits fine thresholds near 1, where few false alarms an hour live', () => {
  assert.ok(ROC_CONFIDENCES.includes(0.999) && ROC_CONFIDENCES.includes(0.7));
  assert.deepEqual(
    [...ROC_CONFIDENCES].sort((a, b) => a - b),
    ROC_CONFIDENCES,
    'ascending',
  );
  const answers = [0.6, 0.92, 0.995].map((p, i) => ({ time: 2 * i + 1, exit: 1, probabilities: Float32Array.from([1 - p, p]) }));
  const truth = [{ start: 0.5, end: 1, label: 'yes' }];
  const rule = { minConfidence: 0.5, suppressMs: 0, smoothWindows: 1, ignore: new Set<string>() };
  const roc = streamRoc(['no', 'yes'], rule, answers, truth, 3600);
  const at = (c: number) => roc.find((p) => p.minConfidence === c)!;
  assert.deepEqual([at(0.55).hits, at(0.55).falseAlarms], [1, 2]);
  assert.deepEqual([at(0.95).hits, at(0.95).falseAlarms], [0, 1]);
  assert.deepEqual([at(0.999).hits, at(0.999).falseAlarms], [0, 0]);
});

test('keywords with thresholds of their own move with --min-confidence, in logit space; the own point of the rule is on the ROC', () => {
  const rule = { minConfidence: 0.9, labelConfidence: { yes: 0.99, no: 1 }, suppressMs: 0, smoothWindows: 1, ignore: new Set<string>() };
  assert.deepEqual(movedTo(rule, 0.9), rule, 'the rule itself, not a recomputation');
  const moved = movedTo(rule, 0.5);
  // logit(0.9) = ln 9, logit(0.5) = 0: yes moves from logit(0.99) = ln 99 to ln 11
  assert.ok(Math.abs((moved.labelConfidence?.yes ?? 0) - 11 / 12) < 1e-12);
  assert.equal(moved.labelConfidence?.no, 1, 'never stays never');
  assert.equal(movedTo({ minConfidence: 0.7 }, 0.2).minConfidence, 0.2);
  // the trigger: yes needs 0.99 where others need 0.9
  const answers = [0.95, 0.995].map((p, i) => ({ time: 10 * i + 1, exit: 1, probabilities: Float32Array.from([1 - p, p]) }));
  const roc = streamRoc(['go', 'yes'], rule, answers, [], 3600);
  assert.equal(roc.find((p) => p.minConfidence === 0.9)?.falseAlarms, 1, 'only the 0.995 window fires yes at the rule itself');
});
