import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { startCli, waitFor } from '../helpers/cli.js';
import { stageUpdate } from '../helpers/feed-staging.js';
import { tempDir } from '../helpers/fixtures.js';

describe('several workers (RECSERVE_WORKERS=2)', () => {
  it('serve one port, aggregate /metrics over every worker, repeat admin actions in every worker, and stop on SIGTERM', { timeout: 60_000 }, async (t) => {
    const feed = tempDir(t);
    const first = await stageUpdate(feed, 'als', { seed: 1 });
    const second = await stageUpdate(feed, 'als', { seed: 2 });
    const { child, baseUrl, output } = await startCli(['--feed', feed, '--model', 'als', '--port', '0', '--host', '127.0.0.1'], { RECSERVE_WORKERS: '2', RECSERVE_ADMIN_TOKEN: 'tok' });
    t.after(() => child.kill('SIGKILL'));
    // Both workers log that they listen on the same port.
    await waitFor(async () => (output().match(/Server listening at http:\/\/127\.0\.0\.1/g) ?? []).length >= 2, 20_000);
    assert.equal(new Set(output().match(/Server listening at http:\/\/127\.0\.0\.1:\d+/g)).size, 1, 'one port');
    await waitFor(async () => (await fetch(`${baseUrl}/readyz`)).status === 200);

    const pids = new Set<string>();
    for (let i = 0; i < 60; i++) {
      const res = await fetch(`${baseUrl}/recommend/${i % 50}`, { headers: { connection: 'close' } });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('x-recserve-model-version'), second);
      await res.arrayBuffer();
    }
    const metrics = await (await fetch(`${baseUrl}/metrics`)).text();
    assert.match(metrics, /recserve_exposures_total\{experiment="default",variant="als"\} 60/, 'every worker\'s requests counted in one scrape');
    assert.match(metrics, new RegExp(`recserve_model_info\\{model="als",version="${second}"\\} 1`));
    for (const m of metrics.matchAll(/recserve_process_start_time_seconds[^\n]*/g)) pids.add(m[0]);

    const pin = await fetch(`${baseUrl}/admin/models/als/pin`, { method: 'POST', headers: { authorization: 'Bearer tok', 'content-type': 'application/json' }, body: JSON.stringify({ version: first }) });
    assert.equal(pin.status, 200);
    await waitFor(async () => {
      const versions = new Set<string | null>();
      for (let i = 0; i < 20; i++) versions.add((await fetch(`${baseUrl}/recommend/1`, { headers: { connection: 'close' } })).headers.get('x-recserve-model-version'));
      return versions.size === 1 && versions.has(first);
    }, 10_000);

    child.kill('SIGTERM');
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
  });
});
