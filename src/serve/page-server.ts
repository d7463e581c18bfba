import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { BeeError } from '../errors.js';

// dist/web/, bundled at build time (scripts/build-web.mjs); the same path from src/serve and dist/serve.
const PAGE_DIR = new URL('../../dist/web/', import.meta.url);
const FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/page.js': 'page.js',
  '/train-worker.js': 'train-worker.js',
  '/worklet.js': 'worklet.js',
  '/kernels.wasm': 'kernels.wasm',
  '/spectrum.wasm': 'spectrum.wasm',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', wasm: 'application/wasm' };

/**
 * On every answer: no sniffing of types, and a policy that lets the page run only its own script,
 * worklet and WebAssembly (compiling it needs 'wasm-unsafe-eval'), fetch only from here, keep its
 * one inline style sheet, and never be framed.
 */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'content-security-policy':
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
};

/** The packed models the page gets: the one it listens with, and the one "add a word" learns new words on. */
export interface PageModels {
  model: Uint8Array;
  base: Uint8Array;
}

/**
 * Serves the web page and its packed models, from this machine only (127.0.0.1): nothing else is
 * reachable, and the page needs nothing from the network. Resolves once listening.
 */
export async function servePage(models: PageModels, port: number): Promise<{ server: http.Server; url: string }> {
  const modelRoutes = new Map([
    ['/model.bee', models.model],
    ['/base.bee', models.base],
  ]);
  const files = new Map<string, Buffer>();
  for (const [route, name] of Object.entries(FILES)) {
    const file = new URL(name, PAGE_DIR);
    if (!fs.existsSync(file)) throw new BeeError('the web page is not built', { file: fileURLToPath(file), hint: 'run npm run build' });
    files.set(route, fs.readFileSync(file));
  }
  const server = http.createServer((req, res) => {
    // Only pages of this machine's own addresses (a rebinding DNS name pointing here is refused).
    const host = (req.headers.host ?? '').replace(/:\d+$/, '');
    if (host !== '127.0.0.1' && host !== 'localhost') {
      res.writeHead(403, { 'content-type': 'text/plain', ...SECURITY_HEADERS }).end('forbidden\n');
      return;
    }
    const route = (req.url ?? '/').split('?')[0];
    const body = modelRoutes.get(route) ?? files.get(route);
    if (!body) {
      res.writeHead(404, { 'content-type': 'text/plain', ...SECURITY_HEADERS }).end('not found\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { 'content-type': 'text/plain', allow: 'GET, HEAD', ...SECURITY_HEADERS }).end('method not allowed\n');
      return;
    }
    const type = modelRoutes.has(route) ? 'application/octet-stream' : TYPES[(FILES[route] ?? '').split('.').pop()!];
    res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-store', ...SECURITY_HEADERS });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new BeeError(`cannot listen on 127.0.0.1:${port}: ${err.code ?? err.message}`, { hint: 'pass another --port (0: any free one)' })),
    );
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/` };
}
