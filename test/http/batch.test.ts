import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { publishSynth } from '../helpers/synth-feed.js';
import { servingStack } from '../helpers/serving.js';

const feed = mkdtempSync(path.join(tmpdir(), 'recserve-batch-'));
let stack: Awaited<ReturnType<typeof servingStack>>;

async function batch(payload: unknown) {
  const res = await stack.app.inject({ method: 'POST', url: '/recommend/batch', payload: payload as object });
  return { status: res.statusCode, type: res.headers['content-type'], text: res.body };
}

before(async () => {
  await publishSynth(feed, 'als', { users: 300, items: 2000, rank: 16, seed: 8 });
  // Single requests have a deadline and batch lines none: a loaded machine must not make a GET skip the model here.
  stack = await servingStack(feed, ['als'], undefined, { deadlineMs: 60_000, experiments: [{ name: 'ab', salt: 's', variants: [{ name: 'a', weight: 1, recommender: 'als' }, { name: 'b', weight: 1, recommender: 'als' }] }] });
  await stack.store.loadAll();
});
after(async () => {
  await stack.close();
  rmSync(feed, { recursive: true, force: true });
});

describe('POST /recommend/batch', () => {
  it('streams one NDJSON line per user, in the order asked, each what GET /recommend/:userId answers', async () => {
    const userIds = Array.from({ length: 300 }, (_, i) => String((i * 7) % 300));
    const before = { ...stack.scorer.stats };
    const { status, type, text } = await batch({ userIds, n: 5, exclude: ['3', '4'] });
    // Users share scans: up to maxBatch (32) per pass over the item matrix.
    assert.equal(stack.scorer.stats.requests - before.requests, 300);
    assert.ok(stack.scorer.stats.runs - before.runs <= Math.ceil(300 / 32) + 1, `${stack.scorer.stats.runs - before.runs} scans for 300 users`);
    assert.equal(status, 200);
    assert.match(type as string, /^application\/x-ndjson/);
    const texts = text.trimEnd().split('\n');
    // Each line is the text JSON.stringify writes for it (the items' part is the addon's).
    for (const line of texts) assert.equal(JSON.stringify(JSON.parse(line)), line);
    const lines = texts.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.length, userIds.length);
    for (const [i, line] of lines.entries()) {
      const single = (await stack.app.inject({ method: 'GET', url: `/recommend/${userIds[i]}?n=5&exclude=3,4&experiment=ab` })).json() as Record<string, unknown>;
      // A batch scans users together, summing in another order: scores agree to float32 rounding.
      const scoresOf = (r: Record<string, unknown>) => (r.items as { score: number }[]).map((item) => item.score);
      const withoutScores = (r: Record<string, unknown>) => ({ ...r, items: (r.items as { itemId: string }[]).map((item) => item.itemId) });
      assert.deepEqual(withoutScores(line), withoutScores(single), `line ${i}`);
      scoresOf(line).forEach((score, j) => assert.ok(Math.abs(score - scoresOf(single)[j]!) <= 1e-6 * Math.abs(score), `line ${i} item ${j}`));
    }
  });

  it('queues its users as background work, behind live requests (the scorer runs live ones first)', async (t) => {
    const seen: { background: boolean }[] = [];
    const topK = stack.scorer.topK.bind(stack.scorer);
    t.mock.method(stack.scorer, 'topK', (...args: Parameters<typeof topK>) => {
      seen.push({ background: args[4] === true });
      return topK(...args);
    });
    await batch({ userIds: ['1', '2', '3'], experiment: 'ab' });
    await stack.app.inject({ method: 'GET', url: '/recommend/4?experiment=ab' });
    assert.deepEqual(seen, [{ background: true }, { background: true }, { background: true }, { background: false }]);
  });

  it('gives a user with no answer an error line and goes on', async () => {
    const { status, text } = await batch({ userIds: ['1', 'nobody', '2'], experiment: 'ab' });
    assert.equal(status, 200);
    const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(lines.map((l) => l.userId), ['1', 'nobody', '2']);
    assert.deepEqual([lines[1]!.error, typeof lines[1]!.message], ['unknown_user', 'string']);
    assert.equal(lines[2]!.source, 'model');
  });

  it('gives a user whose answer cannot be finished an error line, and the lines after it their answers', async () => {
    // An exposure log that throws for one user: the line is the user's failure, the stream goes on.
    const options = stack.service['options'];
    const kept = options.exposureLog;
    options.exposureLog = {
      write: (e) => {
        if (e.userId === '2') throw new Error('exposure log broke');
      },
      close: async () => {},
    };
    try {
      const { status, text } = await batch({ userIds: ['1', '2', '3', '4'], experiment: 'ab' });
      assert.equal(status, 200);
      const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
      assert.deepEqual(lines.map((l) => l.userId), ['1', '2', '3', '4']);
      assert.deepEqual([lines[1]!.error, lines[1]!.message], ['internal', 'an unexpected server error']);
      assert.deepEqual([lines[0], lines[2], lines[3]].map((l) => l!.source), ['model', 'model', 'model']);
    } finally {
      options.exposureLog = kept;
    }
  });

  it('refuses a batch that is empty, over 1,000 users, malformed, or for an unknown experiment, before any line', async () => {
    for (const bad of [{ userIds: [] }, { userIds: Array.from({ length: 1001 }, (_, i) => String(i)) }, { userIds: [''] }, { userIds: ['1'], n: 0 }, { userIds: ['1'], surprise: 1 }]) {
      const { status, text } = await batch(bad);
      assert.deepEqual([status, JSON.parse(text).error], [400, 'invalid_request'], JSON.stringify(bad).slice(0, 60));
    }
    const unknown = await batch({ userIds: ['1'], experiment: 'nope' });
    assert.deepEqual([unknown.status, JSON.parse(unknown.text).error], [404, 'unknown_experiment']);
  });
});
