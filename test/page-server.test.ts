import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { servePage } from '../src/serve/page-server.ts';

/** One request to the page server: status, headers, body. */
function request(url: string, method: string, host = '127.0.0.1'): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers: { host } }, (res) => {
      let body = '';
      res.on('data', (b) => (body += b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('bee web: GET and HEAD are served, other methods get 405 with Allow, every answer carries nosniff and a strict policy', async () => {
  const model = Buffer.from('BEEP model bytes');
  const base = Buffer.from('BEEP base bytes');
  const { server, url } = await servePage({ model, base }, 0);
  try {
    const get = await request(`${url}model.bee`, 'GET');
    assert.equal(get.status, 200);
    assert.equal(get.body, model.toString());
    const getBase = await request(`${url}base.bee`, 'GET');
    assert.equal(getBase.status, 200);
    assert.equal(getBase.body, base.toString(), 'add a word learns on the base');
    assert.equal(getBase.headers['content-type'], 'application/octet-stream');
    const head = await request(`${url}model.bee`, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.body, '', 'HEAD: the headers only');
    assert.equal(head.headers['content-length'], String(model.length));
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const r = await request(url, method);
      assert.equal(r.status, 405, method);
      assert.equal(r.headers.allow, 'GET, HEAD');
    }
    assert.equal((await request(`${url}nothing`, 'POST')).status, 404, 'what does not exist is not found, whatever the method');
    for (const r of [get, head, await request(`${url}../../etc/passwd`, 'GET'), await request(url, 'GET', 'evil.example')]) {
      assert.equal(r.headers['x-content-type-options'], 'nosniff');
      const csp = String(r.headers['content-security-policy']);
      assert.match(csp, /default-src 'none'/);
      assert.match(csp, /script-src 'self' 'wasm-unsafe-eval'/);
      assert.match(csp, /frame-ancestors 'none'/);
    }
  } finally {
    server.close();
  }
});
