import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request } from 'node:http';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { startCli, waitFor } from '../helpers/cli.js';
import { tempDir } from '../helpers/fixtures.js';
import { publishSynth } from '../helpers/synth-feed.js';

/** One GET on a fresh connection: the status, or the socket error code. */
function get(url: string): Promise<number | string> {
  return new Promise((resolve) => {
    const req = request(url, { agent: false, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
      res.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    req.end();
  });
}

describe('graceful shutdown', () => {
  it('on SIGTERM: /readyz turns 503, requests in flight finish, new connections stop, exit 0', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t);
    // The plain TypeScript kernel on 400,000 items keeps each request busy for tens of milliseconds.
    await publishSynth(dir, 'als', { users: 20, items: 400_000, rank: 16 });
    const config = path.join(dir, 'recserve.yaml');
    writeFileSync(config, `feed: ${dir}\nmodels: [{name: als}]\nhost: 127.0.0.1\nport: 0\nscoring: {kernels: [js]}\nshutdown: {drainDelayMs: 400, graceMs: 10000}\n`);
    const { child, baseUrl } = await startCli(['--config', config]);
    t.after(() => child.kill('SIGKILL'));
    await waitFor(async () => (await get(`${baseUrl}/readyz`)) === 200, 20_000);

    const outcomes: { startedAt: number; outcome: number | string }[] = [];
    let running = true;
    const clients = Array.from({ length: 4 }, async (_, c) => {
      for (let i = 0; running; i++) {
        const startedAt = performance.now();
        outcomes.push({ startedAt, outcome: await get(`${baseUrl}/recommend/${(i + c) % 20}`) });
      }
    });
    await new Promise((r) => setTimeout(r, 500));
    const exited = once(child, 'exit');
    const sigtermAt = performance.now();
    child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await get(`${baseUrl}/readyz`), 503, '/readyz answers 503 while draining');
    const [code] = await exited;
    running = false;
    await Promise.all(clients);
    assert.equal(code, 0);
    // Requests sent before SIGTERM, or during the drain that follows it, are in flight: all must be answered.
    const inFlight = outcomes.filter((o) => o.startedAt < sigtermAt + 300);
    const late = outcomes.filter((o) => o.startedAt >= sigtermAt + 300);
    assert.ok(inFlight.length > 10, `${inFlight.length} requests in flight around SIGTERM`);
    assert.deepEqual(inFlight.filter((o) => o.outcome !== 200), [], 'no request in flight was cut off');
    t.diagnostic(`${inFlight.length} requests sent before or while draining, all 200; later ones: ${JSON.stringify(Object.fromEntries([...new Set(late.map((o) => o.outcome))].map((k) => [k, late.filter((o) => o.outcome === k).length])))}`);
  });

  it('SIGKILL loses no exposure line older than the flush interval', { timeout: 60_000 }, async (t) => {
    const dir = tempDir(t);
    await publishSynth(dir, 'als', { users: 20, items: 100, rank: 4 });
    const log = path.join(dir, 'exposures.jsonl');
    const config = path.join(dir, 'recserve.yaml');
    writeFileSync(config, `feed: ${dir}\nmodels: [{name: als}]\nhost: 127.0.0.1\nport: 0\nexposureLog: {destination: ${log}, flushIntervalMs: 200}\n`);
    const { child, baseUrl } = await startCli(['--config', config]);
    t.after(() => child.kill('SIGKILL'));
    await waitFor(async () => (await get(`${baseUrl}/readyz`)) === 200, 20_000);
    for (let i = 0; i < 10; i++) assert.equal(await get(`${baseUrl}/recommend/${i}`), 200);
    const lines = () => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0);
    // The process keeps running: only the flush interval can write them.
    await waitFor(async () => lines() === 10, 10_000);
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
    assert.equal(lines(), 10);
  });
});
