import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { listUpdates, nextUpdateId, updateIdFor } from '../../src/model-store/feed.js';
import { tempDir } from '../helpers/fixtures.js';

describe('feed layout', () => {
  it('names updates by UTC second, sortable as text', () => {
    assert.equal(updateIdFor(new Date('2026-11-21T22:59:59.123Z')), '20261121T225959Z');
  });

  it('lists update folders oldest first, complete once _SUCCESS exists, ignoring other names', async (t) => {
    const feed = tempDir(t);
    const dir = path.join(feed, 'm', 'v1');
    for (const id of ['20260102T000000Z', '20260101T000000Z', '.tmp-1-abc', 'notes']) mkdirSync(path.join(dir, id), { recursive: true });
    writeFileSync(path.join(dir, '20260101T000000Z', '_SUCCESS'), '');
    assert.deepEqual(
      (await listUpdates(feed, 'm')).map((u) => [u.id, u.complete]),
      [['20260101T000000Z', true], ['20260102T000000Z', false]],
    );
    assert.deepEqual(await listUpdates(feed, 'absent'), []);
  });

  it('never reuses or goes below an existing update id', async (t) => {
    const feed = tempDir(t);
    mkdirSync(path.join(feed, 'm', 'v1', '20300101T000000Z'), { recursive: true });
    assert.equal(await nextUpdateId(feed, 'm', new Date('2026-01-01T00:00:00Z')), '20300101T000001Z');
    assert.equal(await nextUpdateId(feed, 'm', new Date('2031-01-01T00:00:00Z')), '20310101T000000Z');
  });
});
