import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { say } from '../src/audio/tts.ts';
import { readWav } from '../src/audio/wav.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { summarizeDataset } from '../src/data/dataset-summary.ts';
import { COMMAND_WORDS, synthesizeKeywords } from '../src/synth/keywords.ts';
import { beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';

const bee = beeWithCache(tempDir('bee-cache-'));

/** Every file under dir, relative, with the SHA-256 of its bytes. */
function digest(dir: string): Record<string, string> {
  return Object.fromEntries(
    (fs.readdirSync(dir, { recursive: true }) as string[])
      .filter((f) => fs.statSync(path.join(dir, f)).isFile() && f !== 'synth.json')
      .sort()
      .map((f) => [
        f,
        createHash('sha256')
          .update(fs.readFileSync(path.join(dir, f)))
          .digest('hex'),
      ]),
  );
}

test('flite speaks offline: a word is a second or less of 16 kHz speech, the same every time', () => {
  const a = say('yes', { voice: 'slt' });
  assert.equal(a.sampleRate, 16000);
  assert.ok(a.samples.length > 4000 && a.samples.length < 16000, `${a.samples.length} samples`);
  assert.ok(Math.max(...a.samples.map(Math.abs)) > 0.1, 'not silence');
  assert.deepEqual(say('yes', { voice: 'slt' }).samples, a.samples);
  assert.notDeepEqual(say('yes', { voice: 'slt', rate: 1.3 }).samples.length, a.samples.length, 'the rate changes the duration');
  assert.equal(say('go', { voice: 'kal' }).sampleRate, 8000);
});

test('synthesized keywords: the Speech Commands test-set layout, deterministic per seed, speakers kept in one split', () => {
  const root = tempDir();
  const a = path.join(root, 'a');
  const manifest = synthesizeKeywords(a, { seed: 3, speakers: 10, takes: 1 });
  assert.equal(manifest.clips, 120);
  assert.deepEqual(fs.readdirSync(a).sort(), [...COMMAND_WORDS, '_silence_', '_unknown_', 'synth.json'].sort());
  const unknown = fs.readdirSync(path.join(a, '_unknown_'));
  assert.ok(
    unknown.every((f) => /^[a-z]+_[0-9a-f]{8}_nohash_0\.wav$/.test(f)),
    unknown[0],
  );
  assert.ok(fs.readdirSync(path.join(a, 'yes')).every((f) => /^[0-9a-f]{8}_nohash_0\.wav$/.test(f)));
  const clip = readWav(path.join(a, 'yes', fs.readdirSync(path.join(a, 'yes'))[0]));
  assert.deepEqual([clip.sampleRate, clip.samples.length], [16000, 16000]);

  const summary = summarizeDataset(loadDataset(a), 1);
  assert.equal(summary.sharedSpeakers, 0);
  assert.deepEqual([summary.splits.train.speakers, summary.splits.validation.speakers, summary.splits.test.speakers], [7, 1, 2]);
  const few = summarizeDataset(loadDataset(synthesizeKeywords(path.join(root, 'few'), { seed: 1, speakers: 3, takes: 1 }) && path.join(root, 'few')), 1);
  assert.deepEqual([few.splits.train.speakers, few.splits.validation.speakers, few.splits.test.speakers], [1, 1, 1], 'every split, even with 3 speakers');
  fs.rmSync(path.join(root, 'few'), { recursive: true });

  const b = path.join(root, 'b');
  synthesizeKeywords(b, { seed: 3, speakers: 10, takes: 1 });
  assert.deepEqual(digest(b), digest(a), 'the same seed, the same bytes');
  const c = path.join(root, 'c');
  synthesizeKeywords(c, { seed: 4, speakers: 10, takes: 1 });
  assert.notDeepEqual(Object.values(digest(c)), Object.values(digest(a)));
  assert.throws(() => synthesizeKeywords(a, { seed: 3, speakers: 10, takes: 1 }), /already exists/);
  assert.deepEqual(fs.readdirSync(root).sort(), ['a', 'b', 'c'], 'no temporary directories left');
});

test('bee data synth: --force only over a synthesized dataset, one-line errors', () => {
  const root = tempDir();
  const out = path.join(root, 'synth');
  const r = bee('data', 'synth', '--out', out, '--speakers', '3', '--takes', '1', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).clips, 36);
  const again = bee('data', 'synth', '--out', out, '--speakers', '3', '--takes', '1');
  assert.equal(again.status, 1);
  assert.match(again.stderr, /synth: already exists \(pick another --out, or pass --force/);
  const replaced = bee('data', 'synth', '--out', out, '--speakers', '3', '--takes', '1', '--seed', '2', '--force', '--json');
  assert.equal(replaced.status, 0, replaced.stderr);
  assert.equal(JSON.parse(replaced.stdout).seed, 2);
  assert.deepEqual(fs.readdirSync(root).sort(), ['synth'], 'no temporary or old directory left');
  const mine = path.join(root, 'mine');
  fs.mkdirSync(mine);
  fs.writeFileSync(path.join(mine, 'notes.txt'), 'keep me');
  const refused = bee('data', 'synth', '--out', mine, '--force');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /mine: exists and is not a dataset bee synthesized/);
  assert.equal(fs.readFileSync(path.join(mine, 'notes.txt'), 'utf8'), 'keep me');
  assert.match(bee('data', 'synth', '--out', out, '--speakers', '2').stderr, /--speakers.*expected a whole number in 3\.\.10000/);
  const file = path.join(root, 'file');
  fs.writeFileSync(file, 'x');
  const under = bee('data', 'synth', '--out', path.join(file, 'sub'), '--speakers', '3', '--takes', '1');
  assert.equal(under.status, 1);
  assert.match(under.stderr, /sub: cannot write: ENOTDIR/);
  assert.equal(under.stderr.trim().split('\n').length, 1, under.stderr);
});

test('end to end on a tiny synthesized set: bee demo (synthesize, train, save, sweep, export), then eval, predict and export', () => {
  const out = path.join(tempDir(), 'demo');
  const args = ['demo', '--out', out, '--speakers', '5', '--takes', '1', '--epochs', '2', '--width', '0.25'];
  const first = bee(...args, '--json');
  assert.equal(first.status, 0, first.stderr);
  const result = JSON.parse(first.stdout);
  assert.equal(result.dataCached, false);
  assert.equal(result.clips, 60);
  assert.deepEqual(
    result.thresholds.map((r: { threshold: number }) => r.threshold),
    [0.5, 0.7, 0.85, 0.95, 1],
  );
  assert.equal(result.thresholds.at(-1).meanExit, 4);
  assert.equal(result.exitAccuracy.length, 4);
  for (const file of ['data/synth.json', 'run/best/model.json', 'run/metrics.jsonl', 'model.bee', 'sweep/sweep.svg', 'sweep/sweep.csv', 'sweep/sweep.json'])
    assert.ok(fs.existsSync(path.join(out, file)), file);
  assert.deepEqual(result.timed.packed.exitHistogram, result.timed.tfjs.exitHistogram, 'both engines take the same exits');

  const again = bee(...args);
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stdout, /60 synthesized clips \(reused\)/);
  assert.match(again.stdout, /next:\n {2}bee eval --model/);

  const evaluated = bee('eval', '--model', path.join(out, 'run'), '--threshold', '0.7', '--json');
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.equal(JSON.parse(evaluated.stdout).samples, result.testClips);
  const clip = path.join(out, 'data', 'yes', fs.readdirSync(path.join(out, 'data', 'yes'))[0]);
  const predicted = bee('predict', clip, '--model', path.join(out, 'model.bee'), '--json');
  assert.equal(predicted.status, 0, predicted.stderr);
  assert.ok(JSON.parse(predicted.stdout)[0].label);
  const exported = bee('export', '--model', path.join(out, 'run'), '--out', path.join(out, 'again.bee'));
  assert.equal(exported.status, 0, exported.stderr);
  assert.deepEqual(fs.readFileSync(path.join(out, 'again.bee')), fs.readFileSync(path.join(out, 'model.bee')), 'export is deterministic');

  // A directory the demo did not make is never written into.
  const mine = path.join(tempDir(), 'mine');
  fs.mkdirSync(path.join(mine, 'run'), { recursive: true });
  fs.writeFileSync(path.join(mine, 'run', 'metrics.jsonl'), 'my own run\n');
  const refused = bee('demo', '--out', mine, '--speakers', '3', '--takes', '1', '--epochs', '1');
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /mine: exists and was not made by bee demo: not writing into it/);
  assert.equal(refused.stderr.trim().split('\n').length, 1, refused.stderr);
  assert.deepEqual(fs.readdirSync(mine), ['run']);
});
