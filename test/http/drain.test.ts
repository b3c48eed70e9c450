import assert from 'node:assert/strict';
import { once } from 'node:events';
import { Agent, createServer, request, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it, type TestContext } from 'node:test';
import { Connections, drainConnections, stopListening } from '../../src/http/drain.js';

interface Answer {
  status?: number;
  headers?: IncomingHttpHeaders;
  error?: string;
  reused: boolean;
}

function get(url: string, agent: Agent | false): Promise<Answer> {
  return new Promise((resolve) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, reused: req.reusedSocket }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve({ error: err.code ?? err.message, reused: req.reusedSocket }));
    req.end();
  });
}

/** A plain HTTP server: `/slow` answers when the test says so; every answer closes its connection once draining. */
async function startServer(t: TestContext) {
  const lifecycle = { draining: false };
  let releaseSlow: () => void = () => undefined;
  const slowReleased = new Promise<void>((resolve) => (releaseSlow = resolve));
  const slowArrived: { resolve?: () => void } = {};
  const slowInProgress = new Promise<void>((resolve) => (slowArrived.resolve = resolve));
  const server = createServer(async (req, res) => {
    if (req.url === '/slow') {
      slowArrived.resolve!();
      await slowReleased;
    }
    if (lifecycle.draining) res.setHeader('connection', 'close');
    res.end('ok');
  });
  const connections = new Connections(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.closeAllConnections());
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  return { server, connections, lifecycle, slowInProgress, releaseSlow, agent, base: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

describe('connection drain', () => {
  it('stops accepting without cutting idle keep-alive connections; their next request is answered with Connection: close; requests in progress finish', async (t) => {
    const { server, connections, lifecycle, slowInProgress, releaseSlow, agent, base } = await startServer(t);
    assert.equal((await get(`${base}/`, agent)).status, 200);
    const slow = get(`${base}/slow`, false);
    await slowInProgress;

    lifecycle.draining = true;
    stopListening(server);
    const drained = drainConnections(connections, 30_000, 60_000);
    assert.equal((await get(`${base}/`, false)).error, 'ECONNREFUSED', 'no new connection once the listener is closed');
    const again = await get(`${base}/`, agent);
    assert.deepEqual([again.status, again.reused, again.headers?.connection], [200, true, 'close'], 'the idle keep-alive connection was kept for its next request');
    releaseSlow();
    assert.equal((await slow).status, 200);
    assert.equal(await drained, true);
    assert.equal(connections.size, 0);
  });

  it('closes a connection nobody uses once it has been idle long enough', async (t) => {
    const { server, connections, lifecycle, agent, base } = await startServer(t);
    assert.equal((await get(`${base}/`, agent)).status, 200);
    assert.equal(connections.size, 1);
    lifecycle.draining = true;
    stopListening(server);
    assert.equal(await drainConnections(connections, 30_000, 0), true);
    assert.equal(connections.size, 0);
  });

  it('gives up after the grace period while a request is still in progress', async (t) => {
    const { server, connections, lifecycle, slowInProgress, releaseSlow, base } = await startServer(t);
    const slow = get(`${base}/slow`, false);
    await slowInProgress;
    lifecycle.draining = true;
    stopListening(server);
    assert.equal(await drainConnections(connections, 300, 0), false);
    assert.equal(connections.size, 1, 'the busy connection is not idle, so not closed');
    releaseSlow();
    assert.equal((await slow).status, 200);
  });
});
