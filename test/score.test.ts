// Scoring a stream against its truth file: random truth files (fuzzing, helpers/fuzz.ts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { BeeError } from '../src/errors.ts';
import { parseTruthCsv, scoreStream } from '../src/stream/score.ts';
import { LIMITS, refusesOrReads } from './helpers/fuzz.ts';

test('fuzz: random truth files are refused in one line, or scored within bounds', () => {
  const row = fc.oneof(
    fc
      .tuple(fc.double({ min: 0, max: 100, noNaN: true }), fc.double({ min: 0, max: 10, noNaN: true }), fc.constantFrom('yes', 'no', '_unknown_', 'YES', 'x'))
      .map(([s, d, l]) => `${s},${s + d},${l}`),
    fc.string({ maxLength: 30 }),
    fc.constantFrom('', ' ', '\r', '1,2', '1,2,3,4', 'nan,1,yes', '-1,2,yes', '2,1,yes', '1e400,1e401,yes', '0x1,2,yes', '\ufeffstart,end,label'),
  );
  const detection = fc.record({
    time: fc.double({ min: -5, max: 120, noNaN: true }),
    label: fc.constantFrom('yes', 'no', 'x'),
    confidence: fc.double({ min: 0, max: 1, noNaN: true }),
    exit: fc.integer({ min: 1, max: 4 }),
  });
  fc.assert(
    fc.property(
      fc.boolean(),
      fc.array(row, { maxLength: 20 }),
      fc.array(detection, { maxLength: 20 }),
      fc.oneof(fc.constant(0), fc.double({ min: 1 / 16000, max: 1e6, noNaN: true })), // the durations a stream has
      (header, rows, detections, duration) => {
        const text = `${header ? 'start,end,label\n' : ''}${rows.join(rows.length % 2 ? '\r\n' : '\n')}`;
        const truth = refusesOrReads(() => parseTruthCsv(text, 'truth.csv'));
        if (truth instanceof BeeError) return;
        const sorted = [...detections].sort((a, b) => a.time - b.time);
        const s = scoreStream(sorted, truth, duration, (l) => l !== '_unknown_');
        assert.ok(s.hits >= 0 && s.hits <= s.words && s.misses === s.words - s.hits);
        assert.ok(s.falseAlarms >= 0 && s.falseAlarms + s.hits === sorted.length);
        assert.ok(Number.isFinite(s.falseAlarmsPerHour) && s.hitRate >= 0 && s.hitRate <= 1);
      },
    ),
    LIMITS,
  );
});
