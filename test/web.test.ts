import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { BEE, beeWithCache } from './helpers/cli.ts';
import { tempDir } from './helpers/datasets.ts';
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
  const stream = bee('data', 'stream', ...split, '--split', 'test', '--noise-rms', '0.003', '--gap', '0.5,1', '--out', path.join(dir, 'mic.wav'));
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

test('the web page spots the words of a fake microphone in headless Chromium, with no network but bee web', { skip, timeout: 120_000 }, async () => {
  const { launch } = await import('puppeteer-core');
  const browser = await launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream',
      `--use-file-for-fake-audio-capture=${path.join(dir, 'mic.wav')}`,
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
    // The tones the stream holds are named on the page as they are detected.
    await page.waitForFunction("/\\b(high|low|mid)\\b/.test(document.getElementById('log').textContent)", { timeout: 60_000 });
    const log = await page.$eval('#log', (e) => e.textContent ?? '');
    assert.match(log, /exit [1-4]/);
    assert.match(await page.$eval('#status', (e) => e.textContent ?? ''), /listening at 16000 Hz/);
    assert.deepEqual(errors, []);
    assert.ok(requests.length >= 4 && requests.every((r) => r.startsWith(url)), `requests beyond bee web: ${requests.filter((r) => !r.startsWith(url))}`);
  } finally {
    await browser.close();
  }
});
