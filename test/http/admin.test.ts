import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { stageUpdate } from '../helpers/feed-staging.js';
import { tempDir } from '../helpers/fixtures.js';
import { servingStack } from '../helpers/serving.js';

const TOKEN = 's3cret-token';

async function adminStack(t: { after(fn: () => void): void }, token?: string, settings: Record<string, unknown> = {}) {
  const feed = tempDir(t);
  const ids = [await stageUpdate(feed, 'als', { seed: 1 }), await stageUpdate(feed, 'als', { seed: 2 })];
  const stack = await servingStack(feed, ['als'], undefined, { reload: { pollIntervalMs: 0, watchEvents: false }, ...settings }, token);
  t.after(() => stack.close());
  await stack.store.loadAll();
  const call = async (method: 'GET' | 'POST', url: string, body?: unknown, auth = `Bearer ${TOKEN}`) => {
    const res = await stack.app.inject({ method, url, payload: body as object, headers: auth ? { authorization: auth } : {} });
    return { status: res.statusCode, body: res.json() as Record<string, unknown> };
  };
  return { feed, ids, stack, call };
}

describe('admin routes', () => {
  it('do not exist without RECSERVE_ADMIN_TOKEN (404)', async (t) => {
    const { call } = await adminStack(t, '');
    assert.equal((await call('GET', '/admin/models')).status, 404);
    assert.equal((await call('POST', '/admin/models/als/reload')).status, 404);
  });

  it('answer 401 without the right bearer token', async (t) => {
    const { call } = await adminStack(t, TOKEN);
    for (const auth of ['', 'Bearer wrong', `Bearer ${TOKEN}x`, TOKEN, `Basic ${TOKEN}`]) {
      const res = await call('GET', '/admin/models', undefined, auth);
      assert.equal(res.status, 401, auth);
      assert.equal(res.body.error, 'unauthorized');
    }
  });

  it('show serving version, candidates and errors; pin, follow nothing while pinned, unpin', async (t) => {
    const { call, feed, ids } = await adminStack(t, TOKEN);
    const listed = (await call('GET', '/admin/models')).body.models as { name: string; version: string; candidates: string[]; pinned: string | null }[];
    assert.deepEqual([listed[0]!.version, listed[0]!.candidates, listed[0]!.pinned], [ids[1], ids, null]);

    const pinned = await call('POST', '/admin/models/als/pin', { version: ids[0] });
    assert.equal(pinned.status, 200);
    assert.equal(pinned.body.version, ids[0]);
    const served = await call('GET', '/recommend/1');
    assert.equal(served.body.model && (served.body.model as { version: string }).version, ids[0]);

    const newer = await stageUpdate(feed, 'als', { seed: 3 });
    assert.equal((await call('POST', '/admin/models/als/reload')).body.version, ids[0], 'a pinned model does not follow the feed');

    const unpinned = await call('POST', '/admin/models/als/unpin');
    assert.equal(unpinned.body.version, newer);
  });

  it('refuse a pin to an update that does not exist or does not load (409) and keep serving', async (t) => {
    const { call, feed, ids } = await adminStack(t, TOKEN);
    const missing = await call('POST', '/admin/models/als/pin', { version: '20000101T000000Z' });
    assert.deepEqual([missing.status, missing.body.error], [409, 'update_rejected']);
    const bad = await stageUpdate(feed, 'als', { seed: 9, damage: (dir) => writeFileSync(`${dir}/manifest.json`, '{') });
    const refused = await call('POST', '/admin/models/als/pin', { version: bad });
    assert.deepEqual([refused.status, refused.body.error], [409, 'update_rejected']);
    assert.match(refused.body.message as string, /not valid JSON/);
    const still = (await call('GET', '/admin/models')).body.models as { version: string; pinned: string | null }[];
    assert.deepEqual([still[0]!.version, still[0]!.pinned], [ids[1], null]);
    assert.equal((await call('POST', '/admin/models/nope/pin', { version: ids[0] })).status, 404);
    assert.equal((await call('POST', '/admin/models/als/pin', { version: 'latest' })).status, 400);
  });

  it('honour a pin set in the config', async (t) => {
    const feed = tempDir(t);
    const first = await stageUpdate(feed, 'als', { seed: 1 });
    await stageUpdate(feed, 'als', { seed: 2 });
    const stack = await servingStack(feed, ['als'], undefined, { models: [{ name: 'als', pin: first }] });
    t.after(() => stack.close());
    await stack.store.loadAll();
    assert.equal(stack.store.get('als')!.version, first);
  });
});
