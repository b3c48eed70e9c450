import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { BUNDLED, runCli, startCli, waitFor } from '../helpers/cli.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

// `npm start`, the `recserve` bin and the image run the bundle, not the sources the other tests run.
describe('the bundled CLI (dist/recserve.mjs)', () => {
  it('is written by the build', () => {
    assert.ok(existsSync(BUNDLED[0]!), 'npm run build writes dist/recserve.mjs (npm test builds first)');
  });

  it('serves the demo model with its docs and metrics, and runs the other commands', async (t) => {
    const demo = path.join(REPO_ROOT, 'models');
    const users = await runCli(['users', '--feed', demo, '--name', 'demo', '--sample', '2'], {}, BUNDLED);
    assert.equal(users.code, 0, users.stderr);
    const [user] = JSON.parse(users.stdout) as string[];

    const { child, baseUrl } = await startCli(['--feed', demo, '--model', 'demo', '--port', '0', '--host', '127.0.0.1'], {}, BUNDLED);
    t.after(() => child.kill('SIGTERM'));
    await waitFor(async () => (await fetch(`${baseUrl}/readyz`)).status === 200);
    const res = await fetch(`${baseUrl}/recommend/${user}?n=5`);
    assert.equal(res.status, 200);
    const body = (await res.json()) as { items: unknown[]; source: string };
    assert.equal(body.items.length, 5);
    assert.equal(body.source, 'model');
    const docs = await fetch(`${baseUrl}/docs/`);
    assert.equal(docs.status, 200);
    assert.match(await docs.text(), /swagger/i);
    assert.match(await (await fetch(`${baseUrl}/metrics`)).text(), /recserve_model_info/);
  });
});
