import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { tempDir } from '../helpers/fixtures.js';
import { servingStack } from '../helpers/serving.js';
import { publishSynth } from '../helpers/synth-feed.js';

let seed = 7;
const rand = () => (seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32;
const pick = <T>(xs: T[]) => xs[Math.floor(rand() * xs.length)]!;
const randomBytes = (n: number) => Array.from({ length: n }, () => String.fromCharCode(Math.floor(rand() * 256))).join('');
const encode = (s: string) => encodeURIComponent(s);

/** A generated bad request: random bytes and long values in path and query, unknown routes, wrong methods. */
function hostileRequest(): { method: string; url: string; headers?: Record<string, string>; payload?: string } {
  const kinds = [
    () => ({ method: 'GET', url: `/recommend/${encode(randomBytes(1 + Math.floor(rand() * 300)))}` }),
    () => ({ method: 'GET', url: `/recommend/1?n=${encode(randomBytes(5))}&exclude=${encode(randomBytes(Math.floor(rand() * 2000)))}` }),
    () => ({ method: 'GET', url: `/recommend/1?n=${pick(['-1', '1e9', 'NaN', '0x10', '', '1.5', '99999999999999999999'])}` }),
    () => ({ method: 'GET', url: `/recommend/1?experiment=${encode(randomBytes(80))}&${encode(randomBytes(10))}=${encode(randomBytes(10))}` }),
    () => ({ method: 'GET', url: `/recommend/${'9'.repeat(5000)}?exclude=${'1,'.repeat(3000)}1` }),
    () => ({ method: 'GET', url: `/${encode(randomBytes(40))}/${encode(randomBytes(40))}` }),
    () => ({ method: pick(['POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS']), url: pick(['/recommend/1', '/models', '/readyz', '/admin/models']), payload: randomBytes(100) }),
    () => ({ method: 'GET', url: '/recommend/1', headers: { 'x-recserve-variant': 'x'.repeat(2000), accept: randomBytes(20).replace(/[^\x20-\x7e]/g, '') } }),
    () => ({ method: 'GET', url: `/recommend/%${pick(['', 'zz', 'E0%A4%A', 'C0%80', '00'])}` }),
    () => ({ method: 'GET', url: `/recommend/1?${'a=1&'.repeat(500)}` }),
  ];
  return pick(kinds)();
}

/** Sends raw bytes on a new connection and returns the status line the server answers with (or the error). */
function raw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let data = '';
    socket.on('data', (d) => (data += d));
    socket.on('close', () => resolve(data.split('\r\n')[0] ?? ''));
    socket.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'error'));
  });
}

/** A serving stack on a small model, listening on a free port of 127.0.0.1: its port. */
async function listening(t: Parameters<typeof tempDir>[0]): Promise<number> {
  const feed = tempDir(t);
  await publishSynth(feed, 'als', { users: 20, items: 50, rank: 4 });
  const stack = await servingStack(feed, ['als']);
  t.after(() => stack.close());
  await stack.store.loadAll();
  await stack.app.listen({ host: '127.0.0.1', port: 0 });
  return (stack.app.server.address() as { port: number }).port;
}

describe('hostile input', () => {
  it('thousands of generated bad requests: no 5xx, and the service still answers', { timeout: 120_000 }, async (t) => {
    const feed = tempDir(t);
    await publishSynth(feed, 'als', { users: 20, items: 50, rank: 4 });
    const stack = await servingStack(feed, ['als']);
    t.after(() => stack.close());
    await stack.store.loadAll();
    const statuses = new Map<number, number>();
    for (let i = 0; i < 3000; i++) {
      const req = hostileRequest();
      const res = await stack.app.inject({ ...req, method: req.method as "GET" });
      statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      assert.ok(res.statusCode < 500, `${req.method} ${req.url.slice(0, 120)} -> ${res.statusCode} ${res.body.slice(0, 200)}`);
    }
    t.diagnostic(`statuses: ${JSON.stringify(Object.fromEntries(statuses))}`);
    assert.equal((await stack.app.inject({ method: 'GET', url: '/recommend/3' })).statusCode, 200);
  });

  it('over the wire: huge headers and URLs and malformed HTTP get 4xx, and the process lives', async (t) => {
    const port = await listening(t);
    const answers = [
      await raw(port, `GET /recommend/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}\r\n\r\n`),
      await raw(port, `GET /recommend/${'1'.repeat(100_000)} HTTP/1.1\r\nHost: x\r\n\r\n`),
      await raw(port, `POST /recommend/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\nContent-Type: application/json\r\n\r\n${'{'.repeat(70_000)}`),
      await raw(port, 'NONSENSE\r\n\r\n'),
      await raw(port, `GET /recommend/1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n`),
    ];
    for (const answer of answers) assert.match(answer, /^HTTP\/1\.1 4\d\d/, `answer: ${answer}`);
    const res = await fetch(`http://127.0.0.1:${port}/recommend/3`);
    assert.equal(res.status, 200);
  });

  it('answers oversized headers before dropping the rest, and cuts a client that goes on sending', { timeout: 20_000 }, async (t) => {
    const port = await listening(t);
    // A client that keeps its side open and writes a chunk of header bytes every 20 ms, whatever it is told:
    // the server must close the connection itself (it lingers a second; the client gives up after ten).
    const { answer, closedByServer } = await new Promise<{ answer: string; closedByServer: boolean }>((resolve) => {
      let answer = '';
      const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true }, () => socket.write(`GET /recommend/1 HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}`));
      const more = setInterval(() => socket.writable && socket.write('a'.repeat(10_000)), 20);
      const giveUp = setTimeout(() => socket.destroy(new Error('still open')), 10_000);
      socket.on('data', (d) => (answer += d));
      socket.on('error', () => undefined);
      socket.on('close', () => {
        clearInterval(more);
        clearTimeout(giveUp);
        resolve({ answer, closedByServer: socket.errored?.message !== 'still open' });
      });
    });
    assert.ok(closedByServer, 'the server closed the connection');
    assert.match(answer, /^HTTP\/1\.1 431 /);
    assert.match(answer, /"error":"headers_too_large"/);
    assert.equal((await fetch(`http://127.0.0.1:${port}/recommend/3`)).status, 200);
  });
});
