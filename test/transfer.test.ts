import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { encodeWav, readWav } from '../src/audio/wav.ts';
import { findWavs } from '../src/data/dataset.ts';
import { PAPER_FEATURES } from '../src/features/params.ts';
import { engineFor } from '../src/engine/engine-for.ts';
import { crc32 } from '../src/engine/crc32.ts';
import { decodePacked, encodePacked } from '../src/engine/format.ts';
import { instantiateKernels, planMemory } from '../src/engine/wasm-kernels.ts';
import { readPackedFile } from '../src/engine/packed-file.ts';
import { PRETRAINED_BASE } from '../src/exits/pretrained.ts';
import { LogMel } from '../src/features/logmel.ts';
import { argmax, neverEarly } from '../src/spec/exit-rules.ts';
import { makeSpeakers, speak } from '../src/synth/voices.ts';
import { DEFAULT_TRANSFER, trainHeads } from '../src/transfer/custom-model.ts';
import { crossFitTemperatures } from '../src/transfer/cross-fit.ts';
import { augmentedExamples, DEFAULT_FEW_SHOT_AUGMENT, exampleCount } from '../src/transfer/examples.ts';
import { readExampleFolder } from '../src/transfer/folder-examples.ts';
import { folderWithNegatives, writeNegatives } from '../src/transfer/negative-folders.ts';
import { DEFAULT_HEAD_FIT, fitHead, headLogits } from '../src/transfer/head-fit.ts';
import { wordWindows } from '../src/transfer/word-windows.ts';
import { mulberry32, rngFor } from '../src/util/rng.ts';
import { assertOneLineError, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
import { makeToneDataset } from './helpers/tones.ts';

const RATE = 16000;

/** softmax(z / t) */
const softmax = (z: Float64Array, t: number) => Array.from(z, (v) => Math.exp(v / t) / z.reduce((a, u) => a + Math.exp(u / t), 0));

/** n points of each of `classes` Gaussian blobs in d dimensions (the same blobs for every noise seed), every input on its own scale (as pooled statistics are). */
function blobs(classes: number, n: number, d: number, noiseSeed: number) {
  const centreRng = mulberry32(1);
  const rng = mulberry32(noiseSeed);
  const gauss = (r = rng) => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const centres = Array.from({ length: classes }, () => Array.from({ length: d }, () => 2 * gauss(centreRng)));
  const scales = Array.from({ length: d }, (_, i) => 10 ** ((i % 7) - 3));
  const x = new Float32Array(classes * n * d);
  const y = new Int32Array(classes * n);
  for (let c = 0; c < classes; c++)
    for (let r = 0; r < n; r++) {
      y[c * n + r] = c;
      for (let i = 0; i < d; i++) x[(c * n + r) * d + i] = (centres[c][i] + gauss()) * scales[i] + 5 * scales[i];
    }
  return { x, y };
}

test('fitHead learns separable classes whatever the inputs scales, with and without a hidden layer, and its folded weights give its logits', () => {
  const { x, y } = blobs(4, 60, 24, 3);
  const fresh = blobs(4, 30, 24, 4);
  for (const hidden of [0, 16]) {
    const fit = fitHead(x, 24, y, 4, { ...DEFAULT_HEAD_FIT, hidden, epochs: 30 });
    assert.ok(fit.accuracy > 0.95, `training accuracy ${fit.accuracy} (hidden ${hidden})`);
    assert.equal(fit.weights.hidden !== undefined, hidden > 0);
    let correct = 0;
    for (let r = 0; r < 120; r++) {
      const row = fresh.x.subarray(r * 24, (r + 1) * 24);
      if (argmax(Float32Array.from(headLogits(fit.weights, row))) === fresh.y[r]) correct++;
    }
    assert.ok(correct / 120 > 0.9, `held-out accuracy ${correct / 120} (hidden ${hidden})`);
  }
});

test('the head-training kernels add as a plain loop does: bit for bit its sums, whatever the shapes', () => {
  const kernels = instantiateKernels();
  const rng = mulberry32(3);
  for (const [rows, inputs, units] of [
    [8, 16, 4],
    [7, 13, 6],
    [3, 5, 1],
  ]) {
    const lengths = {
      x: rows * inputs,
      w: inputs * units,
      b: units,
      y: rows * units,
      g: rows * units,
      dw: inputs * units,
      m: inputs * units,
      v: inputs * units,
    };
    const at = planMemory(kernels, (layout) => Object.values(lengths).map((n) => layout.take(8 * n)));
    const [x, w, b, y, g, dw, m, v] = Object.values(lengths).map((n, i) => {
      const view = new Float64Array(kernels.memory.buffer, at[i], n);
      for (let k = 0; k < n; k++) view[k] = rng() * 2 - 1;
      return view;
    });
    const [ax, aw, ab, ay, ag, adw, am, av] = at;
    kernels.headDense(ax, rows, inputs, aw, ab, units, ay);
    for (let r = 0; r < rows; r++)
      for (let u = 0; u < units; u++) {
        let sum = b[u];
        for (let i = 0; i < inputs; i++) sum += x[r * inputs + i] * w[i * units + u];
        assert.ok(Object.is(sum, y[r * units + u]), `y[${r}][${u}] of ${rows}x${inputs}x${units}`);
      }
    const expected = dw.map((d, k) => {
      const [i, u] = [Math.floor(k / units), k % units];
      let sum = d;
      for (let r = 0; r < rows; r++) sum += g[r * units + u] * x[r * inputs + i];
      return sum;
    });
    kernels.headDenseGrad(ax, rows, inputs, ag, units, adw);
    assert.deepEqual(dw, expected, `dw of ${rows}x${inputs}x${units}`);
    // Adam: the same operations in the same order as in scalar code, the gradient zeroed
    for (let k = 0; k < v.length; k++) v[k] = Math.abs(v[k]);
    const [decay, corrected, beta1, beta2, epsilon] = [0.9999, 0.0123, 0.9, 0.999, 1e-7];
    const after = w.map((value, k) => {
      const mk = beta1 * m[k] + (1 - beta1) * dw[k];
      const vk = beta2 * v[k] + (1 - beta2) * dw[k] * dw[k];
      return value * decay - (corrected * mk) / (Math.sqrt(vk) + epsilon);
    });
    kernels.adamStep(aw, adw, am, av, w.length, decay, corrected, beta1, beta2, epsilon);
    assert.deepEqual(w, after, `Adam's step on ${w.length} weights`);
    assert.ok(dw.every((d) => d === 0));
  }
});

test('fitHead with three heads stores one head whose logits are the mean of the three fit alone', () => {
  const { x, y } = blobs(3, 20, 8, 5);
  for (const hidden of [0, 6]) {
    const options = { ...DEFAULT_HEAD_FIT, hidden, epochs: 3, seed: 7 };
    const bag = fitHead(x, 8, y, 3, { ...options, heads: 3 }).weights;
    const alone = [7, 107, 207].map((seed) => fitHead(x, 8, y, 3, { ...options, heads: 1, seed }).weights);
    assert.equal(bag.hidden?.bias.length ?? 0, 3 * hidden);
    const rows = x.subarray(0, 10 * 8);
    const mean = alone.map((w) => headLogits(w, rows, 10)).reduce((a, l) => a.map((v, i) => v + l[i] / 3), new Float64Array(30));
    headLogits(bag, rows, 10).forEach((v, i) => assert.ok(Math.abs(v - mean[i]) < 1e-4 * (1 + Math.abs(mean[i])), `logit ${i}: ${v} vs ${mean[i]}`));
  }
});

test('fitHead is deterministic for a seed, and refuses inputs that do not match the labels', () => {
  const { x, y } = blobs(3, 20, 8, 5);
  const a = fitHead(x, 8, y, 3, { ...DEFAULT_HEAD_FIT, epochs: 3 });
  const b = fitHead(x, 8, y, 3, { ...DEFAULT_HEAD_FIT, epochs: 3 });
  assert.deepEqual(a.weights.kernel, b.weights.kernel);
  assert.throws(() => fitHead(x.subarray(1), 8, y, 3, DEFAULT_HEAD_FIT), /values for 60 examples/);
});

test('wordWindows finds each word of a recording said with pauses, centred, and nothing in quiet', () => {
  const rng = rngFor(1, 2);
  const samples = Float32Array.from({ length: 9 * RATE }, () => 0.001 * (rng() - 0.5));
  const starts = [0.8, 2.4, 4.1, 5.9, 7.6];
  for (const s of starts) for (let i = 0; i < 0.4 * RATE; i++) samples[Math.round(s * RATE) + i] += 0.3 * Math.sin((2 * Math.PI * 440 * i) / RATE);
  const found = wordWindows(samples, RATE);
  assert.equal(found.length, 5);
  for (const w of found) {
    assert.equal(w.length, RATE);
    // the 0.4 s burst sits in the middle of its window: the first and last 0.25 s are quiet
    const edge = (a: number, b: number) => Math.max(...w.subarray(a, b).map(Math.abs));
    assert.ok(edge(0, 0.25 * RATE) < 0.01 && edge(0.75 * RATE, RATE) < 0.01, 'the word is centred');
  }
  assert.deepEqual(wordWindows(samples.subarray(0, 0.7 * RATE), RATE), []);
  assert.equal(
    wordWindows(
      Float32Array.from({ length: 3 * RATE }, () => 0.001 * (rng() - 0.5)),
      RATE,
    ).length,
    0,
  );
});

test('augmentedExamples makes the examples it counts, each word clip and its copies, then the negatives, the same for a seed', () => {
  const clip = Float32Array.from({ length: RATE }, (_, i) => Math.sin(i / 10));
  const examples = { words: new Map([['hi', [clip, clip]]]), noise: [Float32Array.from({ length: 3 * RATE }, (_, i) => Math.sin(i))], unknown: [clip] };
  const plan = { ...DEFAULT_FEW_SHOT_AUGMENT, perWord: 8 };
  const made = [...augmentedExamples(examples, readPackedFile(PRETRAINED_BASE).header.features, plan, 1)];
  assert.equal(made.length, exampleCount(examples, plan));
  // labels: _silence_ 0, _unknown_ 1, hi 2; 8 word examples, then 8 of each negative
  assert.deepEqual(
    made.map((e) => e.label),
    [...Array(8).fill(2), ...Array(8).fill(0), ...Array(8).fill(1)],
  );
  // each word clip then its copies share a source; every negative window is its own
  const windows = Array.from({ length: 8 }, (_, i) => i);
  assert.deepEqual(
    made.map((e) => e.source),
    [0, 0, 0, 0, 1, 1, 1, 1, ...windows, ...windows],
  );
  const again = [...augmentedExamples(examples, readPackedFile(PRETRAINED_BASE).header.features, plan, 1)];
  assert.deepEqual(again[5].features, made[5].features);
});

test('crossFitTemperatures fits on even sources and scores odd ones: sure where held-out clips agree, unsure where they do not, 1 with one clip', () => {
  // 3 classes, 4 sources each of 10 consecutive copies (as augmentedExamples makes them)
  const { x } = blobs(3, 40, 6, 11);
  const labels = Int32Array.from({ length: 120 }, (_, i) => Math.floor(i / 40));
  const sources = Int32Array.from({ length: 120 }, (_, i) => Math.floor((i % 40) / 10));
  const head = { ...DEFAULT_HEAD_FIT, hidden: 0, epochs: 20 };
  // an odd source a copy of the even one before it: the held-out half agrees with the fit, so sharpen (T < 1)
  const agreeing = x.slice();
  for (let i = 0; i < 120; i++) if (sources[i] % 2) agreeing.set(x.subarray((i - 10) * 6, (i - 9) * 6), i * 6);
  const [sure] = crossFitTemperatures([agreeing], labels, sources, 3, head);
  assert.ok(sure < 1, `agreeing held-out clips: T ${sure}`);
  // the same points, the odd sources named as the next class: the fit half is confidently wrong on them, so flatten (T > 1)
  const misnamed = Int32Array.from(labels, (l, i) => (sources[i] % 2 ? (l + 1) % 3 : l));
  const [unsure] = crossFitTemperatures([agreeing], misnamed, sources, 3, head);
  assert.ok(unsure > 1, `contradicting held-out clips: T ${unsure}`);
  // a class with one source leaves nothing to hold out: every exit stays at 1
  const single = Int32Array.from(sources, (s, i) => (labels[i] === 2 ? 0 : s));
  assert.deepEqual(crossFitTemperatures([agreeing, agreeing], labels, single, 3, head), [1, 1]);
});

/** Words in synthetic voices: `speakers` takes of each word, each by its own voice. */
function spoken(words: string[], speakers: number, seed: number): Map<string, Float32Array[]> {
  const voices = makeSpeakers(speakers, seed, { validationPercent: 10, testPercent: 20 });
  const rng = rngFor(seed, 3);
  return new Map(words.map((w) => [w, voices.map((v) => speak(w, v, rng, RATE))]));
}

test('trainHeads turns the shipped model into a spotter of new words that keeps its body, exits and packed form', () => {
  const source = readPackedFile(PRETRAINED_BASE);
  const words = spoken(['apple', 'window'], 6, 7);
  const training = new Map([...words].map(([w, clips]) => [w, clips.slice(0, 5)]));
  const noise = [Float32Array.from({ length: 5 * RATE }, (_, i) => 0.05 * Math.sin(i * 0.37) * Math.sin(i * 0.0011))];
  const { model, report } = trainHeads(source, { words: training, noise, unknown: spoken(['table', 'seven', 'go'], 3, 9).get('table')! }, DEFAULT_TRANSFER);
  assert.deepEqual(model.header.labels, ['_silence_', '_unknown_', 'apple', 'window']);
  assert.deepEqual(report.labels, model.header.labels);
  assert.deepEqual(model.header.stream, { thresholds: [0.85, 0.85, 0.85], keywordExit: 4, minConfidence: 0.7, smoothWindows: 3, suppressMs: 1000 });
  // cross-fit temperatures (5 clips a word: fit on clips 0, 2, 4, scored on 1, 3), inside the search's range
  assert.deepEqual(report.temperatures, model.header.temperatures);
  assert.ok(
    model.header.temperatures.length === 4 && model.header.temperatures.every((t) => t > 0.05 && t < 20) && model.header.temperatures.some((t) => t !== 1),
    `temperatures ${model.header.temperatures}`,
  );
  // every exit answers alone, with a bag of three heads of 64 stored as one of 192
  assert.equal(model.header.ensemble, undefined);
  assert.deepEqual(model.header.network.exitHead, { type: 'pooled', grid: [4, 2], hidden: 192, norm: true });
  for (const [name, tensor] of source.tensors) if (name.startsWith('block')) assert.equal(model.tensors.get(name), tensor, `${name} is the source's`);
  assert.ok(
    report.exits.every((e) => e.accuracy > 0.9),
    JSON.stringify(report.exits),
  );

  // it packs and reads back, and the engine's logits are the heads' (statistics -> standardization folded in)
  const reread = decodePacked(encodePacked(model));
  const engine = engineFor(reread);
  const kept = engine.keepStatistics();
  const logMel = new LogMel(reread.header.features);
  const held = [...words].map(([w, clips]) => ({ word: w, features: logMel.compute(clips[5]).data }));
  for (const { word, features } of held) {
    engine.run(features, neverEarly(4));
    const last = engine.logits[3];
    const weights = {
      hidden: { kernel: reread.tensors.get('exit4.hidden.kernel') as Float32Array, bias: reread.tensors.get('exit4.hidden.bias') as Float32Array },
      kernel: reread.tensors.get('exit4.kernel') as Float32Array,
      bias: reread.tensors.get('exit4.bias') as Float32Array,
    };
    const expected = headLogits(weights, kept[3]);
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(expected[c] - last[c]) < 1e-3, `logit ${c}: ${expected[c]} vs ${last[c]}`);
    // the unseen voice's word is named by most exits
    const named = engine.probabilities.filter((p) => reread.header.labels[argmax(p)] === word).length;
    assert.ok(named >= 3, `${word}: named by ${named} of 4 exits`);
    // each exit answers with its own softmax at its temperature
    for (const [e, z] of engine.logits.entries())
      for (const [c, p] of softmax(z, reread.header.temperatures[e]).entries())
        assert.ok(Math.abs(engine.probabilities[e][c] - p) < 1e-6, `exit ${e + 1}, class ${c}: ${engine.probabilities[e][c]} vs ${p}`);
  }

  // custom models of .bee version 7 answered from exit 3 on with the geometric mean of the exit's softmax and the one
  // before's, renormalized; version 6's with their arithmetic mean: both still run
  const ensembled: typeof model = { ...model, header: { ...model.header, ensemble: [1, 1, 2, 2], ensembleMean: 'geometric' } };
  const geometricEngine = engineFor(decodePacked(encodePacked(ensembled)));
  geometricEngine.run(held[0].features, neverEarly(4));
  const own = geometricEngine.logits.map((z, e) => softmax(z, reread.header.temperatures[e]));
  const geometric = (p: number[], q: number[]) => {
    const g = p.map((v, c) => Math.sqrt(v * q[c]));
    return g.map((v) => v / g.reduce((a, b) => a + b, 0));
  };
  for (const [e, answer] of [own[0], own[1], geometric(own[1], own[2]), geometric(own[2], own[3])].entries())
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(geometricEngine.probabilities[e][c] - answer[c]) < 1e-6, `geometric ensemble, exit ${e + 1}, class ${c}`);
  const arithmetic = engineFor(decodePacked(encodePacked({ ...ensembled, header: { ...ensembled.header, ensembleMean: undefined } })));
  arithmetic.run(held[0].features, neverEarly(4));
  const [p3, p4] = [2, 3].map((e) => arithmetic.logits[e]).map((z, i) => softmax(z, reread.header.temperatures[i + 2]));
  for (let c = 0; c < 4; c++) assert.ok(Math.abs(arithmetic.probabilities[3][c] - (p3[c] + p4[c]) / 2) < 1e-6, `arithmetic mean, class ${c}`);

  // a model with a geometric ensemble is written as version 7, an arithmetic one as 6, without as 5; a file that says an
  // older version than what it holds is refused, and so is a malformed ensemble
  const bytes = encodePacked(ensembled);
  const versionOf = (header: typeof ensembled.header) => new DataView(encodePacked({ ...model, header }).buffer).getUint32(4, true);
  assert.equal(new DataView(bytes.buffer).getUint32(4, true), 7);
  assert.equal(versionOf({ ...ensembled.header, ensembleMean: 'arithmetic' }), 6);
  assert.equal(versionOf(model.header), 5);
  const reversioned = (version: number) => {
    const b = bytes.slice();
    new DataView(b.buffer).setUint32(4, version, true);
    new DataView(b.buffer).setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
    return b;
  };
  assert.throws(() => decodePacked(reversioned(6)), /version 6 file cannot hold a geometric ensemble/);
  assert.throws(() => decodePacked(reversioned(5)), /version 5 file cannot hold an ensemble of exits/);
  assert.throws(
    () => decodePacked(encodePacked({ ...ensembled, header: { ...ensembled.header, ensembleMean: 'harmonic' as never } })),
    /ensembleMean must be "arithmetic" or "geometric"/,
  );
  for (const ensemble of [
    [1, 3, 1, 1],
    [0, 1, 1, 1],
    [1, 1, 2],
  ])
    assert.throws(() => decodePacked(encodePacked({ ...model, header: { ...model.header, ensemble } })), /ensemble must be one whole number per exit/);
});

test('bee train --from writes a custom .bee from a folder of a few WAVs a word, which bee eval runs; and refuses what cannot be done', () => {
  const dir = tempDir('bee-transfer-');
  const bee = beeWithCache(path.join(dir, 'cache'));
  const words = spoken(['lemon', 'river'], 5, 11);
  const data = path.join(dir, 'words');
  const wav = (file: string, samples: Float32Array) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, encodeWav({ sampleRate: RATE, channels: [samples], bits: 16 }));
  };
  // lemon: a WAV a take; river: one recording of the five takes with pauses, as the page records a word
  for (const [i, c] of words.get('lemon')!.entries()) wav(path.join(data, 'lemon', `${i}.wav`), c);
  const pause = new Float32Array(0.8 * RATE);
  wav(
    path.join(data, 'river', 'takes.wav'),
    Float32Array.from(
      words
        .get('river')!
        .flatMap((c) => [...pause, ...c])
        .concat([...pause]),
    ),
  );
  const out = path.join(dir, 'mine.bee');
  const r = bee('train', '--from', PRETRAINED_BASE, '--data', data, '--out', out, '--epochs', '5', '--json');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /words: lemon 5, river 5;/);
  const summary = JSON.parse(r.stdout);
  assert.deepEqual(summary.labels, ['_silence_', '_unknown_', 'lemon', 'river']);
  assert.deepEqual(summary.sources, { noise: 'synthesized', unknown: 'synthesized' });
  assert.equal(summary.examples.lemon, 200);
  const each = path.join(dir, 'each');
  for (const [w, clips] of words) for (const [i, c] of clips.entries()) wav(path.join(each, w, `${i}.wav`), c);
  const evaluated = bee('eval', '--model', out, '--data', each, '--validation-percent', '0', '--test-percent', '100', '--json');
  assert.equal(evaluated.status, 0, evaluated.stderr);
  assert.ok(JSON.parse(evaluated.stdout).accuracy > 0.8, evaluated.stdout);

  assertOneLineError(bee('train', '--from', PRETRAINED_BASE, '--freeze', 'none', '--data', data), /cannot train: --freeze none needs the model directory/);
  assertOneLineError(
    bee('train', '--from', PRETRAINED_BASE, '--data', data, '--arch', 'bee', '--out', out),
    /--arch: with --from and --freeze body only the exit heads train/,
  );
  assertOneLineError(bee('train', '--from', PRETRAINED_BASE, '--data', data, '--out', dir), /is a directory/);
  assertOneLineError(bee('train', '--from', PRETRAINED_BASE, '--data', data, '--out', PRETRAINED_BASE), /is the model being started from/);
  assertOneLineError(bee('train', '--freeze', 'body', '--data', data), /--freeze says what of --from/);
  const empty = path.join(dir, 'empty');
  fs.mkdirSync(path.join(empty, '_unknown_'), { recursive: true });
  assertOneLineError(bee('train', '--from', PRETRAINED_BASE, '--data', empty, '--out', out), /no word folders with WAV files/);
  // the earlier model is still there, whole
  assert.doesNotThrow(() => readPackedFile(out));
  assert.deepEqual(readExampleFolder(data, readPackedFile(out).header.features).sources.noise, 'synthesized');
});

test('bee train --from RUN --freeze none fine-tunes a trained run on new classes: the body starts from its weights, the exits output the new labels', () => {
  const dir = tempDir('bee-finetune-');
  const cache = path.join(dir, 'cache');
  const bee = beeWithCache(cache);
  const split = ['--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20'];
  const tones = path.join(dir, 'tones');
  makeToneDataset(tones, ['high', 'low'], 10, 2);
  const source = path.join(dir, 'source');
  assert.equal(bee('train', '--data', tones, ...split, '--width', '0.25', '--filters', '16,32,64', '--epochs', '1', '--no-augment', '--out', source).status, 0);
  const other = path.join(dir, 'other');
  makeToneDataset(other, ['high', 'low', 'mid'], 10, 2);
  const tuned = path.join(dir, 'tuned');
  const r = bee('train', '--from', source, '--freeze', 'none', '--data', other, ...split, '--epochs', '1', '--no-augment', '--out', tuned, '--json');
  assert.equal(r.status, 0, r.stderr);
  const meta = JSON.parse(fs.readFileSync(path.join(tuned, 'best', 'bee.json'), 'utf8'));
  const sourceMeta = JSON.parse(fs.readFileSync(path.join(source, 'best', 'bee.json'), 'utf8'));
  // the folder had no negatives: they were added as --freeze body adds them, in bee's cache
  assert.deepEqual(meta.labels, ['_silence_', '_unknown_', 'high', 'low', 'mid']);
  assert.ok(meta.data.root.startsWith(path.join(cache, 'transfer-data')), meta.data.root);
  assert.match(r.stderr, /negatives added to the words .* background synthesized, other speech synthesized/);
  const staged = folderWithNegatives(other, PAPER_FEATURES, { cacheDir: cache, seed: 1 });
  assert.equal(staged.root, meta.data.root, 'the same folder and seed: the same dataset, built once');
  const perWord = findWavs(path.join(other, 'high')).length;
  for (const label of ['_silence_', '_unknown_']) assert.equal(findWavs(path.join(staged.root, label)).length, perWord, 'as many as a word has');
  assert.deepEqual(meta.network.filters, sourceMeta.network.filters, 'the network is the source run’s (3 stages), not the default');
  assert.equal(meta.training.options.from, path.resolve(source));
  assert.ok(Math.abs(meta.training.options.learningRate - sourceMeta.training.options.learningRate / 10) < 1e-12, 'a tenth of the rate');
  assertOneLineError(
    bee('train', '--from', source, '--freeze', 'none', '--data', other, '--arch', 'bee', '--out', path.join(dir, 'x')),
    /--arch: with --from the network is the model's/,
  );
});

test('writeNegatives: as many _silence_ windows and _unknown_ clips as asked, the same for a seed; a folder with its own is used as it is', () => {
  const dir = tempDir('bee-negatives-');
  const rng = mulberry32(5);
  const noise = [Float32Array.from({ length: 3 * RATE }, () => rng() - 0.5)];
  const unknown = [Float32Array.from({ length: RATE }, (_, i) => Math.sin(i / 9)), Float32Array.from({ length: RATE }, (_, i) => Math.sin(i / 4))];
  const write = (out: string, seed: number) => writeNegatives(out, { noise, unknown, count: 4, params: PAPER_FEATURES, seed });
  write(path.join(dir, 'a'), 7);
  write(path.join(dir, 'b'), 7);
  write(path.join(dir, 'c'), 8);
  const bytes = (root: string) => ['_silence_', '_unknown_'].flatMap((l) => findWavs(path.join(root, l)).map((f) => fs.readFileSync(f).toString('base64')));
  assert.equal(bytes(path.join(dir, 'a')).length, 8);
  assert.deepEqual(bytes(path.join(dir, 'a')), bytes(path.join(dir, 'b')));
  assert.notDeepEqual(bytes(path.join(dir, 'a')), bytes(path.join(dir, 'c')));
  // the background at -40 to +6 dB: a window's RMS at most twice the recording's
  const rms = (x: Float32Array) => Math.sqrt(x.reduce((n, v) => n + v * v, 0) / x.length);
  for (const f of findWavs(path.join(dir, 'a', '_silence_'))) {
    const level = rms(readWav(f).samples);
    assert.ok(level > 0 && level <= 2.05 * rms(noise[0]), `${f}: ${level}`);
  }
  // a folder that has both negatives is the dataset itself
  fs.mkdirSync(path.join(dir, 'a', 'word'));
  fs.copyFileSync(findWavs(path.join(dir, 'a', '_unknown_'))[0], path.join(dir, 'a', 'word', '1.wav'));
  assert.equal(folderWithNegatives(path.join(dir, 'a'), PAPER_FEATURES, { seed: 1, cacheDir: path.join(dir, 'cache') }).root, path.join(dir, 'a'));
});
