// One error shape for every refusal, Fastify's and Node's own included, with no echo of the input
// beyond a short prefix and no secret in any log line.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import { describe, it, type TestContext } from 'node:test';
import { resolveConfig } from '../../src/config/load.js';
import { ERROR_CODES } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { createServing } from '../../src/wiring/index.js';
import { tempDir } from '../helpers/fixtures.js';
import { publishSynth } from '../helpers/synth-feed.js';

const TOKEN = 'very-secret-admin-token-4711';

/** A listening server on a small model, at trace level, keeping every log line. */
async function server(t: TestContext) {
  const feed = tempDir(t);
  await publishSynth(feed, 'als', { users: 20, items: 50, rank: 4 });
  const lines: string[] = [];
  const sink = new Writable({ write: (chunk, _encoding, done) => (lines.push(String(chunk)), done()) });
  const config = resolveConfig({ feed, models: [{ name: 'als' }], scoring: { threads: 1 } }, 'test config', {});
  const stack = await createServing(config, createLogger('trace', sink), TOKEN);
  t.after(() => stack.close());
  await stack.store.loadAll();
  await stack.app.listen({ host: '127.0.0.1', port: 0 });
  return { stack, lines, port: (stack.app.server.address() as { port: number }).port };
}

/** Sends raw bytes and returns the status code and body of the answer. */
function raw(port: number, text: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d+)/.exec(data)?.[1] ?? 0), body: data.split('\r\n\r\n').slice(1).join('\r\n\r\n') }));
  });
}

function assertErrorShape(status: number, body: string, expected: { status: number; error: string }, input?: string) {
  assert.equal(status, expected.status, body);
  const parsed = JSON.parse(body) as Record<string, unknown>;
  assert.deepEqual(Object.keys(parsed).sort(), ['error', 'message']);
  assert.equal(parsed.error, expected.error);
  assert.ok(parsed.error as string in ERROR_CODES, `${parsed.error as string} is a registered code`);
  assert.ok((parsed.message as string).length < 200, `message is short: ${parsed.message as string}`);
  if (input) assert.ok(!(parsed.message as string).includes(input), 'the message does not repeat the whole input');
}

describe('one error shape', () => {
  it("Fastify's and Node's refusals: over-long segment 414, bad URL 400, oversized headers 431, bad HTTP 400", async (t) => {
    const { port } = await server(t);
    const long = '9'.repeat(5000);
    const tooLong = await raw(port, `GET /recommend/${long} HTTP/1.1\r\nHost: x\r\n\r\n`);
    assertErrorShape(tooLong.status, tooLong.body, { status: 414, error: 'uri_too_long' }, long);
    const badUrl = await raw(port, 'GET /recommend/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n');
    assertErrorShape(badUrl.status, badUrl.body, { status: 400, error: 'invalid_request' });
    const bigHeaders = await raw(port, `GET /recommend/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    assertErrorShape(bigHeaders.status, bigHeaders.body, { status: 431, error: 'headers_too_large' });
    const nonsense = await raw(port, 'NONSENSE\r\n\r\n');
    assertErrorShape(nonsense.status, nonsense.body, { status: 400, error: 'invalid_request' });
    const unknownRoute = await fetch(`http://127.0.0.1:${port}/${'x'.repeat(300)}`);
    assertErrorShape(unknownRoute.status, await unknownRoute.text(), { status: 404, error: 'not_found' }, 'x'.repeat(300));
  });

  it('unknown query parameters are 400 on every route; n takes decimal integers only', async (t) => {
    const { stack } = await server(t);
    const get = async (url: string) => {
      const res = await stack.app.inject({ method: 'GET', url });
      return { status: res.statusCode, body: res.body };
    };
    for (const url of ['/recommend/3?n=5&bogus=1', '/models?verbose=1', '/readyz?x=1', '/healthz?a=b']) {
      const { status, body } = await get(url);
      assertErrorShape(status, body, { status: 400, error: 'invalid_request' });
    }
    assert.match((JSON.parse((await get('/recommend/3?colour=red')).body) as { message: string }).message, /unknown parameter "colour"/);
    for (const n of ['0x10', '1e2', '+5', '5.0', ' 5', '0b1']) {
      const { status, body } = await get(`/recommend/3?n=${encodeURIComponent(n)}`);
      assertErrorShape(status, body, { status: 400, error: 'invalid_request' });
    }
    assertErrorShape((await get('/recommend/3?n=1&n=2')).status, (await get('/recommend/3?n=1&n=2')).body, { status: 400, error: 'invalid_request' });
    const ok = await get('/recommend/3?n=7');
    assert.equal(ok.status, 200, ok.body);
    assert.equal((JSON.parse(ok.body) as { items: unknown[] }).items.length, 7);
    assert.equal((await get('/models')).status, 200);
  });

  it('no log line at trace level holds the Authorization token, whatever the request', async (t) => {
    const { port, lines } = await server(t);
    await raw(port, `GET /admin/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`);
    await raw(port, `GET /admin/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\nContent-Length: x\r\n\r\n`);
    await raw(port, `GET /${'y'.repeat(100)}%zz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
    const ok = await fetch(`http://127.0.0.1:${port}/admin/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(ok.status, 200);
    assert.ok(lines.length > 0, 'trace logging wrote lines');
    for (const line of lines) assert.ok(!line.includes(TOKEN), `a log line holds the token: ${line.slice(0, 300)}`);
  });

  it('two Authorization headers are refused in either order', async (t) => {
    const { port } = await server(t);
    const right = `Authorization: Bearer ${TOKEN}\r\n`, wrong = 'Authorization: Bearer nope\r\n';
    for (const headers of [right + wrong, wrong + right, right + right]) {
      const answer = await raw(port, `GET /admin/models HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\n`);
      assertErrorShape(answer.status, answer.body, { status: 401, error: 'unauthorized' });
    }
    const one = await fetch(`http://127.0.0.1:${port}/admin/models`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(one.status, 200);
  });
});
