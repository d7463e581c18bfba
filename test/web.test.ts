import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BEE, beeWithCache } from './helpers/cli.ts';
import { SHARED_TEST_SET, sharedSkip, tempDir } from './helpers/datasets.ts';
import { makeToneDataset } from './helpers/tones.ts';
import { decodeWav, encodeWav } from '../src/audio/wav.ts';
import { loadDataset } from '../src/data/dataset.ts';
import { readPackedFile } from '../src/engine/packed-file.ts';
import { PRETRAINED_BASE, PRETRAINED_MODEL } from '../src/exits/pretrained.ts';
import { mulberry32 } from '../src/util/rng.ts';

const RATE = 16000;

// Debian's chromium (.ci/run installs it), or another Chrome at $CHROMIUM.
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const missing = fs.existsSync(CHROMIUM) ? false : `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM)`;
// CI sets BEE_EXPECT_CHROMIUM: there a missing browser is a failure, not a skip.
const skip = process.env.BEE_EXPECT_CHROMIUM ? false : missing;

let dir: string;
let server: ChildProcess | undefined;
let url: string;

before(async () => {
  if (missing) {
    if (!skip) throw new Error(`BEE_EXPECT_CHROMIUM is set and there is ${missing}`);
    return;
  }
  dir = tempDir('bee-web-');
  const bee = beeWithCache(path.join(dir, 'cache'));
  const data = path.join(dir, 'tones');
  makeToneDataset(data, undefined, 20, 3);
  const split = ['--data', data, '--split-salt', 'bee', '--validation-percent', '20', '--test-percent', '20'];
  const run = path.join(dir, 'run');
  assert.equal(bee('train', ...split, '--width', '0.25', '--epochs', '6', '--no-augment', '--seed', '2', '--out', run).status, 0);
  assert.equal(bee('export', '--model', run, '--out', path.join(dir, 'tones.bee')).status, 0);
  const stream = bee('data', 'stream', ...split, '--split', 'test', '--noise-gain', '0.5', '--gap', '0.5,1', '--out', path.join(dir, 'mic.wav'));
  assert.equal(stream.status, 0, stream.stderr);
  ({ server, url } = await startWeb('--model', path.join(dir, 'tones.bee')));
});

after(() => server?.kill());

/** `bee web ARGS` on a free port, and the page's address once it listens. */
async function startWeb(...args: string[]): Promise<{ server: ChildProcess; url: string }> {
  const server = spawn(process.execPath, [BEE, 'web', ...args, '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (b: Buffer) => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(String(b));
      if (m) resolve(m[1]);
    });
    server.on('exit', (code) => reject(new Error(`bee web exited with ${code}`)));
  });
  return { server, url };
}

/** Headless Chromium whose microphone plays `mic` (a WAV, looped). */
async function browserWithMic(mic: string) {
  const { launch } = await import('puppeteer-core');
  return launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${mic}`,
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/** Opens the page of `bee web` at `url` in headless Chromium with `mic` as its microphone; returns the page's log once a word matching `words` is on it. */
async function wordsOnPage(url: string, mic: string, words: RegExp): Promise<string> {
  const browser = await browserWithMic(mic);
  try {
    const page = await browser.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.goto(url);
    await page.waitForSelector('#start:not([disabled])', { timeout: 30_000 });
    await page.click('#start');
    await page.waitForFunction(`${words}.test(document.getElementById('log').textContent)`, { timeout: 90_000 });
    assert.match(await page.$eval('#status', (e) => e.textContent ?? ''), /listening at 16000 Hz/);
    assert.deepEqual(errors, []);
    assert.ok(requests.length >= 4 && requests.every((r) => r.startsWith(url)), `requests beyond bee web: ${requests.filter((r) => !r.startsWith(url))}`);
    return await page.$eval('#log', (e) => e.textContent ?? '');
  } finally {
    await browser.close();
  }
}

test('the web page spots the words of a fake microphone in headless Chromium, with no network but bee web', { skip, timeout: 120_000 }, async () => {
  // The tones the stream holds are named on the page as they are detected.
  assert.match(await wordsOnPage(url, path.join(dir, 'mic.wav'), /\b(high|low|mid)\b/), /exit [1-4]/);
});

test('the web page spots spoken words with the pretrained model', { skip: skip || sharedSkip, timeout: 180_000 }, async () => {
  // Unseen speech: the pretrained model's own test split, as bee data stream lays it out over the shared noise.
  const bee = beeWithCache(path.join(dir, 'cache'));
  const mic = path.join(dir, 'speech.wav');
  const noise = path.join(path.dirname(SHARED_TEST_SET), 'speech-commands-background-noise');
  const r = bee('data', 'stream', '--data', SHARED_TEST_SET, '--split-salt', 'bee', '--split', 'test', '--noise-dir', noise, '--gap', '0.5,1', '--out', mic);
  assert.equal(r.status, 0, r.stderr);
  const web = await startWeb();
  try {
    assert.match(await wordsOnPage(web.url, mic, /\b(yes|no|up|down|left|right|on|off|stop|go)\b/), /exit [1-4]/);
  } finally {
    web.server.kill();
  }
});

/** Samples of a clip of the shared set at 16 kHz. */
const clipSamples = (file: string) => decodeWav(fs.readFileSync(file)).samples;

test('the page learns two new words recorded through the fake microphone, spots them spoken by an unseen speaker, and its download answers as bee listen does', {
  skip: skip || sharedSkip,
  timeout: 300_000,
}, async () => {
  // happy and sheila: words the shipped model calls _unknown_; five takes each from training-split speakers, one from a test-split speaker
  const dataset = loadDataset(SHARED_TEST_SET, { split: { salt: 'bee' } });
  const takes = (word: string, split: string) =>
    dataset.clips.filter((c) => c.split === split && path.basename(c.file).startsWith(`${word}_`)).sort((a, b) => (a.file < b.file ? -1 : 1));
  const words = ['happy', 'sheila'];
  const rng = mulberry32(5);
  const floor = (seconds: number) => Float32Array.from({ length: seconds * RATE }, () => 0.002 * (rng() - 0.5));
  const join = (parts: Float32Array[]) => {
    const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  };
  // each take at a peak of 0.3 and 0.6 s apart: speech stays under -10 dB on the page's level meter, the beeps over it
  const take = (file: string) => {
    const clip = clipSamples(file);
    const peak = clip.reduce((m, x) => Math.max(m, Math.abs(x)), 0);
    return join([clip.map((x) => (0.3 * x) / peak + 0.002 * (rng() - 0.5)), floor(0.6)]);
  };
  const beep = (seconds: number) => Float32Array.from({ length: seconds * RATE }, (_, i) => 0.9 * Math.sin((2 * Math.PI * 1000 * i) / RATE));
  // The microphone, looped by Chromium: three sections, each after a beep of its own length (which the
  // test finds on the page's level meter) and 0.8 s of quiet, and before 1.2 s of quiet
  const room = clipSamples(path.join(path.dirname(SHARED_TEST_SET), 'speech-commands-background-noise', 'running_tap.wav'))
    .subarray(0, 4 * RATE)
    .map((x) => 0.3 * x);
  const sections = {
    happy: {
      beep: 0.3,
      audio: join(
        takes('happy', 'train')
          .slice(0, 5)
          .map((c) => take(c.file)),
      ),
    },
    sheila: {
      beep: 0.6,
      audio: join(
        takes('sheila', 'train')
          .slice(0, 5)
          .map((c) => take(c.file)),
      ),
    },
    room: { beep: 0.9, audio: room },
  };
  const mic = join(Object.values(sections).flatMap((section) => [beep(section.beep), floor(0.8), section.audio, floor(1.2)]));
  const micFile = path.join(dir, 'new-words.wav');
  fs.writeFileSync(micFile, encodeWav({ sampleRate: RATE, channels: [mic], bits: 16 }));
  const unseen = path.join(dir, 'unseen.wav');
  fs.writeFileSync(
    unseen,
    encodeWav({
      sampleRate: RATE,
      channels: [join([floor(1), clipSamples(takes('happy', 'test')[0].file), floor(1.5), clipSamples(takes('sheila', 'test')[0].file), floor(1.5)])],
      bits: 16,
    }),
  );

  const web = await startWeb();
  const browser = await browserWithMic(micFile);
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    const downloads = path.join(dir, 'downloads');
    fs.mkdirSync(downloads, { recursive: true });
    const cdp = await page.createCDPSession();
    await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads });
    await page.goto(web.url);
    await page.waitForSelector('#start:not([disabled])', { timeout: 30_000 });
    await page.click('#start');
    const length = mic.length / RATE;
    const timeout = 3 * length * 1000;
    const clock = "document.getElementById('clock').textContent";
    const heard = async () => Number.parseFloat(await page.$eval('#clock', (e) => e.textContent ?? ''));
    const level = `parseFloat(${clock}.split('level ')[1])`;
    /**
     * Records a section: waits for its beep (the level meter over -10 dB for about its length: a
     * loaded machine may drop audio, so every section is found anew), then presses `id` in the
     * quiet before the section and again in the quiet after it.
     */
    const record = async (section: keyof typeof sections, id: string) => {
      const { beep: seconds, audio } = sections[section];
      let end = 0;
      for (let start = 0; Math.abs(end - start - seconds) >= 0.15; ) {
        await page.waitForFunction(`${level} > -10`, { timeout, polling: 20 });
        start = await heard();
        await page.waitForFunction(`${level} < -20`, { timeout, polling: 20 });
        end = await heard();
      }
      await page.waitForFunction(`parseFloat(${clock}) >= ${end + 0.4}`, { timeout, polling: 20 });
      await page.click(`#${id}`);
      await page.waitForFunction(`parseFloat(${clock}) >= ${end + 0.8 + audio.length / RATE + 0.5}`, { timeout, polling: 20 });
      await page.click(`#${id}`);
    };
    for (const word of words) {
      await page.click('#new-word', { clickCount: 3 });
      await page.type('#new-word', word);
      await record(word as 'happy' | 'sheila', 'record-word');
    }
    await record('room', 'record-background');
    const examples = await page.$eval('#examples', (e) => e.textContent ?? '');
    assert.match(examples, /happy: 5 examples/);
    assert.match(examples, /sheila: 5 examples/);
    await page.click('#train-words');
    await page.waitForFunction("/listening with your words/.test(document.getElementById('status').textContent)", { timeout: 120_000 });
    assert.match(await page.$eval('#model', (e) => e.textContent ?? ''), /custom\.bee: 4 classes \(happy, sheila\)/);

    // the unseen speaker, through the page's file input: both words, in order
    const input = await page.$('#pick');
    await (input as unknown as { uploadFile(f: string): Promise<void> }).uploadFile(unseen);
    await page.waitForFunction("/unseen\\.wav: .* detections/.test(document.getElementById('status').textContent)", { timeout: 60_000 });
    const onPage = await page.$eval('#status', (e) => e.textContent ?? '');
    assert.match(onPage, /detections: \d+\.\d s happy, \d+\.\d s sheila$/);

    // the download, in bee listen: the same detections
    await page.click('#download');
    const downloaded = path.join(downloads, 'custom.bee');
    for (let i = 0; i < 100 && !fs.existsSync(downloaded); i++) await new Promise((r) => setTimeout(r, 100));
    const listened = beeWithCache(path.join(dir, 'cache'))('listen', '--model', downloaded, unseen, '--json');
    assert.equal(listened.status, 0, listened.stderr);
    const detections = listened.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .filter((d) => d.label !== undefined);
    assert.equal(onPage.replace(/^.*detections: /, ''), detections.map((d) => `${d.time.toFixed(1)} s ${d.label}`).join(', '));
    assert.deepEqual(errors, []);

    // new words are learned on the transfer base's body, not the spotter's
    const body = (file: string) => [...readPackedFile(file).tensors].filter(([name]) => !name.startsWith('exit'));
    assert.deepEqual(body(downloaded), body(PRETRAINED_BASE));
    assert.notDeepEqual(body(PRETRAINED_BASE), body(PRETRAINED_MODEL), 'two different bodies ship');
  } finally {
    await browser.close();
    web.server.kill();
  }
});
