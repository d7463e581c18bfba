import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tar from 'tar';
import { archiveUrl, downloadAndExtract, MARKER_FILE, type ArchiveSpec } from '../src/data/download.ts';
import { BeeError } from '../src/errors.ts';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'bee-download-'));
let archive: Buffer;
let spec: ArchiveSpec;
let baseUrl: string;
let server: http.Server;

/** What the server saw and how it should misbehave next. */
const served = {
  requests: [] as { url: string; range?: string }[],
  /** Destroy the socket after this many body bytes, once. */
  cutAfter: undefined as number | undefined,
  /** Answer 200 with the whole file even to a Range request. */
  ignoreRange: false,
  /** Never answer (for the timeout). */
  stall: false,
};

let outCount = 0;
const freshOut = () => path.join(tmp, `out-${++outCount}`);

before(async () => {
  // A Speech-Commands-like tarball without a top folder; the random file makes it big enough to cut midway.
  const src = path.join(tmp, 'src');
  for (const [file, content] of [
    ['yes/a_nohash_0.wav', randomBytes(48 * 1024)],
    ['no/b_nohash_0.wav', Buffer.from('no')],
    ['validation_list.txt', Buffer.from('yes/a_nohash_0.wav\n')],
  ] as const) {
    fs.mkdirSync(path.dirname(path.join(src, file)), { recursive: true });
    fs.writeFileSync(path.join(src, file), content);
  }
  const file = path.join(tmp, 'fixture.tar.gz');
  await tar.c({ gzip: true, file, cwd: src }, ['yes', 'no', 'validation_list.txt']);
  archive = fs.readFileSync(file);
  spec = {
    name: 'fixture',
    url: 'fixture.tar.gz',
    bytes: archive.length,
    sha256: createHash('sha256').update(archive).digest('hex'),
    folder: 'fixture_v1',
  };

  server = http.createServer((req, res) => {
    served.requests.push({ url: req.url ?? '', range: req.headers.range });
    if (served.stall) return;
    if (req.url !== '/data/fixture.tar.gz') {
      res.writeHead(404).end('not found');
      return;
    }
    let start = 0;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    if (range && !served.ignoreRange) {
      start = Number.parseInt(range[1], 10);
      if (start >= archive.length) {
        res.writeHead(416, { 'content-range': `bytes */${archive.length}` }).end();
        return;
      }
      res.writeHead(206, { 'content-length': archive.length - start, 'content-range': `bytes ${start}-${archive.length - 1}/${archive.length}` });
    } else {
      res.writeHead(200, { 'content-length': archive.length });
    }
    const body = archive.subarray(start);
    const cut = served.cutAfter;
    if (cut !== undefined) {
      served.cutAfter = undefined;
      res.write(body.subarray(0, cut), () => res.socket?.destroy());
      return;
    }
    res.end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/data`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  fs.rmSync(tmp, { recursive: true, force: true });
});

const reset = () => Object.assign(served, { requests: [], cutAfter: undefined, ignoreRange: false, stall: false });
const partOf = (out: string) => path.join(out, `.${spec.url}.part`);

describe('downloadAndExtract', () => {
  it('downloads, verifies and extracts in place, then skips a second time', async () => {
    reset();
    const out = freshOut();
    const progress: [number, number][] = [];
    const result = await downloadAndExtract(spec, { outDir: out, baseUrl, onProgress: (r, t) => progress.push([r, t]) });

    const dir = path.join(out, 'fixture_v1');
    assert.deepEqual(result, { dir, downloadedBytes: spec.bytes, resumedFrom: 0, extracted: true, skipped: false });
    assert.equal(fs.readFileSync(path.join(dir, 'yes/a_nohash_0.wav')).length, 48 * 1024);
    assert.equal(fs.readFileSync(path.join(dir, 'no/b_nohash_0.wav'), 'utf8'), 'no');
    assert.equal(fs.readFileSync(path.join(dir, 'validation_list.txt'), 'utf8'), 'yes/a_nohash_0.wav\n');
    const marker = JSON.parse(fs.readFileSync(path.join(dir, MARKER_FILE), 'utf8'));
    assert.equal(marker.sha256, spec.sha256);
    assert.equal(marker.url, `${baseUrl}/fixture.tar.gz`);
    assert.ok(!Number.isNaN(Date.parse(marker.date)));
    // Only the dataset folder is left: no part file, no archive, no temporary extraction folder.
    assert.deepEqual(fs.readdirSync(out), ['fixture_v1']);
    assert.deepEqual(progress.at(-1), [spec.bytes, spec.bytes]);
    assert.equal(served.requests.length, 1);
    assert.equal(served.requests[0].range, undefined);

    const again = await downloadAndExtract(spec, { outDir: out, baseUrl });
    assert.deepEqual(again, { dir, downloadedBytes: 0, resumedFrom: 0, extracted: false, skipped: true });
    assert.equal(served.requests.length, 1, 'a verified folder needs no network');
  });

  it('resumes an interrupted download with a Range request', async () => {
    reset();
    const out = freshOut();
    const cut = Math.floor(spec.bytes / 2);
    served.cutAfter = cut;
    await assert.rejects(downloadAndExtract(spec, { outDir: out, baseUrl }), (err) => {
      assert.ok(err instanceof BeeError);
      assert.match(err.message, /fixture\.tar\.gz: download failed after [\d.]+ MB of [\d.]+ MB/);
      return true;
    });
    const kept = fs.statSync(partOf(out)).size;
    assert.equal(kept, cut, 'everything received before the cut is kept');
    assert.ok(!fs.existsSync(path.join(out, 'fixture_v1')));

    const statuses: string[] = [];
    const result = await downloadAndExtract(spec, { outDir: out, baseUrl, onStatus: (m) => statuses.push(m) });
    assert.equal(served.requests.at(-1)?.range, `bytes=${kept}-`);
    assert.equal(result.resumedFrom, kept);
    assert.equal(result.downloadedBytes, spec.bytes - kept);
    assert.ok(result.extracted);
    assert.ok(statuses.some((m) => m.startsWith('resuming')));
    assert.equal(fs.readFileSync(path.join(out, 'fixture_v1/yes/a_nohash_0.wav')).length, 48 * 1024);
    assert.ok(!fs.existsSync(partOf(out)));
  });

  it('starts over when the server ignores the Range request', async () => {
    reset();
    const out = freshOut();
    fs.mkdirSync(out);
    fs.writeFileSync(partOf(out), 'garbage that must not end up in the archive');
    served.ignoreRange = true;
    const result = await downloadAndExtract(spec, { outDir: out, baseUrl });
    assert.ok(served.requests[0].range?.startsWith('bytes='));
    assert.equal(result.resumedFrom, 0);
    assert.equal(result.downloadedBytes, spec.bytes);
    assert.ok(result.extracted);
  });

  it('verifies a complete part without asking the server again', async () => {
    reset();
    const out = freshOut();
    fs.mkdirSync(out);
    fs.writeFileSync(partOf(out), archive);
    const result = await downloadAndExtract(spec, { outDir: out, baseUrl });
    assert.equal(served.requests.length, 0);
    assert.equal(result.downloadedBytes, 0);
    assert.equal(result.resumedFrom, spec.bytes);
    assert.ok(result.extracted);
    assert.ok(fs.existsSync(path.join(out, 'fixture_v1', MARKER_FILE)));
    assert.ok(!fs.existsSync(partOf(out)));
  });

  it('treats 416 as the end of the file and lets verification judge the part', async () => {
    reset();
    const out = freshOut();
    fs.mkdirSync(out);
    fs.writeFileSync(partOf(out), archive);
    // The catalogue expects one byte more than the server has: the Range request gets 416, then the size check fails.
    const longer = { ...spec, bytes: spec.bytes + 1 };
    await assert.rejects(downloadAndExtract(longer, { outDir: out, baseUrl }), /checksum failed: expected \d+ bytes/);
    assert.equal(served.requests[0].range, `bytes=${spec.bytes}-`);
    assert.deepEqual(fs.readdirSync(out), []);
  });

  it('deletes the download and throws on a checksum mismatch', async () => {
    reset();
    const out = freshOut();
    const wrong = { ...spec, sha256: '0'.repeat(64) };
    await assert.rejects(downloadAndExtract(wrong, { outDir: out, baseUrl }), (err) => {
      assert.ok(err instanceof BeeError);
      assert.match(err.message, /checksum failed/);
      assert.match(err.message, new RegExp(spec.sha256));
      assert.match(err.options.hint ?? '', /retry/);
      return true;
    });
    assert.deepEqual(fs.readdirSync(out), []);
  });

  it('names the URL on a 404', async () => {
    reset();
    const out = freshOut();
    const missing = { ...spec, url: 'missing.tar.gz' };
    await assert.rejects(downloadAndExtract(missing, { outDir: out, baseUrl }), (err) => {
      assert.ok(err instanceof BeeError);
      assert.match(err.message, /HTTP 404/);
      assert.ok(err.message.includes(`${baseUrl}/missing.tar.gz`));
      assert.match(err.options.hint ?? '', /--base-url/);
      return true;
    });
    assert.ok(!fs.existsSync(path.join(out, 'fixture_v1')));
  });

  it('gives up on a silent server', async () => {
    reset();
    served.stall = true;
    await assert.rejects(downloadAndExtract(spec, { outDir: freshOut(), baseUrl, timeoutMs: 200 }), (err) => {
      assert.ok(err instanceof BeeError);
      assert.match(err.message, /fixture\.tar\.gz: download failed: no data for 0.2 s/);
      return true;
    });
  });

  it('refuses to overwrite a folder it did not make', async () => {
    reset();
    const out = freshOut();
    fs.mkdirSync(path.join(out, 'fixture_v1'), { recursive: true });
    await assert.rejects(downloadAndExtract(spec, { outDir: out, baseUrl }), /already exists/);
    assert.equal(served.requests.length, 0);
  });
});

describe('archiveUrl', () => {
  it('takes the option, else $BEE_DOWNLOAD_BASE_URL, else download.tensorflow.org', () => {
    const saved = process.env.BEE_DOWNLOAD_BASE_URL;
    try {
      delete process.env.BEE_DOWNLOAD_BASE_URL;
      assert.equal(archiveUrl(spec), 'http://download.tensorflow.org/data/fixture.tar.gz');
      process.env.BEE_DOWNLOAD_BASE_URL = 'https://mirror.example/sc';
      assert.equal(archiveUrl(spec), 'https://mirror.example/sc/fixture.tar.gz');
      assert.equal(archiveUrl(spec, 'http://other.example/x/'), 'http://other.example/x/fixture.tar.gz');
    } finally {
      if (saved === undefined) delete process.env.BEE_DOWNLOAD_BASE_URL;
      else process.env.BEE_DOWNLOAD_BASE_URL = saved;
    }
  });
});
