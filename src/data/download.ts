import { createHash } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { BeeError } from '../errors.js';
import { makeDir } from '../util/make-dir.js';
import { decimal } from '../util/decimal.js';

/** One published archive: where it lives (file name under a base URL), what it must hash to, where it unpacks. */
export interface ArchiveSpec {
  name: string;
  /** File name, resolved against the base URL. */
  url: string;
  bytes: number;
  sha256: string;
  /** Folder under the output directory that receives the archive's contents. */
  folder: string;
}

// Sizes and digests from TFDS's url_checksums, so a corrupt or substituted file never reaches training.
export const ARCHIVES = {
  'speech-commands': {
    name: 'speech-commands',
    url: 'speech_commands_v0.02.tar.gz',
    bytes: 2428923189,
    sha256: 'af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58',
    folder: 'speech_commands_v0.02',
  },
  'speech-commands-test-set': {
    name: 'speech-commands-test-set',
    url: 'speech_commands_test_set_v0.02.tar.gz',
    bytes: 112563277,
    sha256: 'cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df',
    folder: 'speech_commands_test_set_v0.02',
  },
} as const satisfies Record<string, ArchiveSpec>;

export const DEFAULT_BASE_URL = 'http://download.tensorflow.org/data/';
export const MARKER_FILE = '.bee-download.json';
const MAX_REDIRECTS = 5;

/** The archive's full URL: base from the option, else $BEE_DOWNLOAD_BASE_URL (mirrors, tests), else TensorFlow's. */
export function archiveUrl(spec: ArchiveSpec, baseUrl?: string): string {
  let base = baseUrl || process.env.BEE_DOWNLOAD_BASE_URL || DEFAULT_BASE_URL;
  // Without the slash, URL resolution would replace the base's last path segment.
  if (!base.endsWith('/')) base += '/';
  try {
    return new URL(spec.url, base).href;
  } catch {
    throw new BeeError(`invalid base URL '${base}'`, { hint: 'pass an http(s) URL such as http://download.tensorflow.org/data/' });
  }
}

export interface DownloadOptions {
  outDir: string;
  baseUrl?: string;
  /** Gives up when the server sends nothing for this long (default 60 s). */
  timeoutMs?: number;
  onProgress?(receivedBytes: number, totalBytes: number): void;
  onStatus?(message: string): void;
}

export interface DownloadResult {
  dir: string;
  /** Bytes received over the network in this call. */
  downloadedBytes: number;
  /** Size of the partial download this call continued from (0 when it started afresh). */
  resumedFrom: number;
  extracted: boolean;
  skipped: boolean;
}

interface Marker {
  url: string;
  sha256: string;
  date: string;
}

function readMarker(dir: string): Marker | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, MARKER_FILE), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/** Downloads (resuming a .part left by an earlier run), verifies size and SHA-256, and extracts in place. */
export async function downloadAndExtract(spec: ArchiveSpec, options: DownloadOptions): Promise<DownloadResult> {
  const { outDir, onStatus } = options;
  const url = archiveUrl(spec, options.baseUrl);
  const dir = path.join(outDir, spec.folder);

  if (fs.existsSync(dir)) {
    if (readMarker(dir)?.sha256 === spec.sha256) return { dir, downloadedBytes: 0, resumedFrom: 0, extracted: false, skipped: true };
    // Never overwrite data bee did not put there; checked before a 2.4 GB download, not after.
    throw new BeeError('the folder already exists and was not made by this download', {
      file: dir,
      hint: `use it with --data ${dir}, or move it away and run the command again`,
    });
  }

  makeDir(outDir, 'download directory');
  const part = path.join(outDir, `.${spec.url}.part`);
  const { downloadedBytes, resumedFrom, sha256 } = await fetchPart(spec, url, part, options);

  onStatus?.(`verifying ${spec.url}`);
  const size = fs.statSync(part).size;
  if (size !== spec.bytes || sha256 !== spec.sha256) {
    // A bad part would poison every later resume, so it goes.
    fs.rmSync(part, { force: true });
    throw new BeeError(`checksum failed: expected ${spec.bytes} bytes with sha256 ${spec.sha256}, got ${size} bytes with sha256 ${sha256}`, {
      file: url,
      hint: 'the corrupt download was deleted; run the command again to retry',
    });
  }

  onStatus?.(`extracting ${spec.url} into ${dir}`);
  await extract(spec, url, part, dir);
  fs.rmSync(part, { force: true });
  return { dir, downloadedBytes, resumedFrom, extracted: true, skipped: false };
}

/** Hashes what is already in the part file, then appends (and hashes) the rest as it arrives. */
async function fetchPart(spec: ArchiveSpec, url: string, part: string, options: DownloadOptions) {
  const { onProgress, onStatus } = options;
  let have = fs.existsSync(part) ? fs.statSync(part).size : 0;
  let hash = createHash('sha256');
  if (have > 0) {
    onStatus?.(`checking the ${mb(have)} already downloaded of ${spec.url}`);
    for await (const chunk of fs.createReadStream(part)) hash.update(chunk as Buffer);
  }
  const done = (downloadedBytes: number, resumedFrom: number) => ({ downloadedBytes, resumedFrom, sha256: hash.digest('hex') });
  // A part as long as the archive (or longer: corrupt) needs no network; verification decides.
  if (have >= spec.bytes) return done(0, have);

  if (have > 0) onStatus?.(`resuming ${spec.url} at ${mb(have)}`);
  const response = await request(url, have > 0 ? { range: `bytes=${have}-` } : {}, options.timeoutMs ?? 60_000);

  if (response.statusCode === 416) {
    // The server has nothing past our end: the part is complete (or wrong, which verification catches).
    response.resume();
    return done(0, have);
  }
  if (response.statusCode === 206) {
    const start = Number.parseInt(/^bytes (\d+)-/.exec(response.headers['content-range'] ?? '')?.[1] ?? '', 10);
    if (start !== have) {
      response.destroy();
      throw new BeeError(`the server resumed at '${response.headers['content-range'] ?? '?'}', not at byte ${have}`, {
        file: url,
        hint: `delete ${part} and run the command again`,
      });
    }
  } else if (response.statusCode === 200) {
    if (have > 0) onStatus?.(`the server does not resume downloads; starting ${spec.url} over`);
    have = 0;
    hash = createHash('sha256');
  } else {
    response.resume();
    throw new BeeError(`HTTP ${response.statusCode} ${response.statusMessage ?? ''}`.trim(), {
      file: url,
      hint: 'check the URL, or pass --base-url for a mirror',
    });
  }

  let received = have;
  let interrupted: unknown;
  onProgress?.(received, spec.bytes);
  try {
    await pipeline(
      // The response stays out of the pipeline so that its failure ends the file cleanly: what arrived is kept for resuming.
      async function* () {
        try {
          for await (const chunk of response as AsyncIterable<Buffer>) {
            hash.update(chunk);
            received += chunk.length;
            onProgress?.(received, spec.bytes);
            yield chunk;
          }
        } catch (err) {
          interrupted = err;
        }
      },
      fs.createWriteStream(part, { flags: have > 0 ? 'a' : 'w' }),
    );
  } catch (err) {
    throw new BeeError(`cannot write the download: ${(err as Error).message}`, { file: part, hint: 'check free disk space and permissions' });
  }
  if (interrupted) throw networkError(url, interrupted, ` after ${mb(received)} of ${mb(spec.bytes)}`);
  // A connection that closes cleanly but early is an interruption to resume, not a corrupt file to delete.
  const announced = decimal(response.headers['content-length'] ?? '');
  if (Number.isFinite(announced) && received < have + announced) {
    throw networkError(url, new Error('connection closed early'), ` after ${mb(received)} of ${mb(spec.bytes)}`);
  }
  return done(received - have, have);
}

/** A GET that follows redirects and asks for the bytes as stored (no transparent decompression). */
function request(url: string, headers: Record<string, string>, timeoutMs: number, redirects = 0): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return reject(new BeeError('invalid URL', { file: url, hint: 'pass an http(s) URL to --base-url' }));
    }
    const get = parsed.protocol === 'https:' ? https.get : parsed.protocol === 'http:' ? http.get : undefined;
    if (!get) return reject(new BeeError(`unsupported protocol ${parsed.protocol}`, { file: url, hint: 'pass an http(s) URL to --base-url' }));
    const req = get(parsed, { headers: { ...headers, 'accept-encoding': 'identity' } }, (res) => {
      const location = res.headers.location;
      if (res.statusCode && res.statusCode >= 300 && res.statusCode < 400 && location) {
        res.resume();
        if (redirects >= MAX_REDIRECTS) return reject(new BeeError('too many redirects', { file: url, hint: 'pass --base-url for a mirror' }));
        return resolve(request(new URL(location, url).href, headers, timeoutMs, redirects + 1));
      }
      resolve(res);
    });
    // An idle timeout, not a total one: the full archive takes minutes, a stalled socket should not take forever.
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no data for ${timeoutMs / 1000} s`)));
    req.on('error', (err) => reject(networkError(url, err)));
  });
}

function networkError(url: string, err: unknown, progress = ''): BeeError {
  if (err instanceof BeeError) return err;
  const e = err as NodeJS.ErrnoException;
  const why = e?.code && !e.message?.includes(e.code) ? `${e.message} (${e.code})` : (e?.message ?? String(err));
  return new BeeError(`download failed${progress}: ${why}`, {
    file: url,
    hint: 'check the network and run the same command again to resume, or pass --base-url for a mirror',
  });
}

/** Unpacks into a hidden sibling and renames it into place, so the final folder is either complete or absent. */
async function extract(spec: ArchiveSpec, url: string, archive: string, dir: string): Promise<void> {
  const tmp = path.join(path.dirname(dir), `.${path.basename(dir)}.extracting`);
  fs.rmSync(tmp, { recursive: true, force: true });
  makeDir(tmp, 'extraction directory');
  try {
    await tar.x({ file: archive, cwd: tmp, strict: true });
    const marker: Marker = { url, sha256: spec.sha256, date: new Date().toISOString() };
    fs.writeFileSync(path.join(tmp, MARKER_FILE), JSON.stringify(marker, null, 2) + '\n');
    fs.renameSync(tmp, dir);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    // The archive is verified and kept, so a retry goes straight back to extracting.
    throw new BeeError(`extraction failed: ${(err as Error).message}`, { file: archive, hint: 'check free disk space and run the command again' });
  }
}
