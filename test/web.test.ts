import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BEE, beeWithCache } from './helpers/cli.ts';
import { SHARED_TEST_SET, sharedSkip, tempDir } from './helpers/datasets.ts';
import { makeToneDataset } from './helpers/tones.ts';

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
  server = spawn(process.execPath, [BEE, 'web', '--model', path.join(dir, 'tones.bee'), '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  url = await new Promise<string>((resolve, reject) => {
    server!.stdout!.on('data', (b: Buffer) => {
      const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(String(b));
      if (m) resolve(m[1]);
    });
    server!.on('exit', (code) => reject(new Error(`bee web exited with ${code}`)));
  });
});

after(() => server?.kill());

/** Opens the page of `bee web` at `url` in headless Chromium with `mic` as its microphone; returns the page's log once a word matching `words` is on it. */
async function wordsOnPage(url: string, mic: string, words: RegExp): Promise<string> {
  const { launch } = await import('puppeteer-core');
  const browser = await launch({
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
  const web = spawn(process.execPath, [BEE, 'web', '--port', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const pretrainedUrl = await new Promise<string>((resolve, reject) => {
      web.stdout!.on('data', (b: Buffer) => {
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(String(b));
        if (m) resolve(m[1]);
      });
      web.on('exit', (code) => reject(new Error(`bee web exited with ${code}`)));
    });
    assert.match(await wordsOnPage(pretrainedUrl, mic, /\b(yes|no|up|down|left|right|on|off|stop|go)\b/), /exit [1-4]/);
  } finally {
    web.kill();
  }
});
