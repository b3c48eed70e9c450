import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Registry } from 'prom-client';
import { countedAtScrape } from '../../src/metrics.js';
import { tempDir } from '../helpers/fixtures.js';
import { servingStack } from '../helpers/serving.js';
import { publishSynth } from '../helpers/synth-feed.js';

describe('GET /metrics', () => {
  it('exports request, recommendation, exposure, fallback, breaker and model metrics, with no ids in labels', async (t) => {
    const feed = tempDir(t);
    await publishSynth(feed, 'als', { users: 20, items: 50, rank: 4 });
    const file = path.join(feed, 'popular.json');
    writeFileSync(file, '["p1"]');
    const stack = await servingStack(feed, ['als'], undefined, {
      // No deadline a loaded machine could miss: the counts below expect the model to answer known users.
      deadlineMs: 60_000,
      fallbacks: { popular: { kind: 'static', file } },
      experiments: [{ name: 'e', salt: 's', variants: [{ name: 'v', weight: 1, recommender: 'als', fallback: ['popular'] }] }],
    });
    t.after(() => stack.close());
    await stack.store.loadAll();
    for (const user of ['1', '2', 'user-unknown-777']) await stack.app.inject({ method: 'GET', url: `/recommend/${user}` });
    await stack.app.inject({ method: 'GET', url: '/recommend/1?n=0' });
    const res = await stack.app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(res.statusCode, 200);
    assert.match(res.headers['content-type'] as string, /text\/plain/);
    const text = res.body;
    for (const pattern of [
      /recserve_http_request_duration_seconds_count\{route="\/recommend\/:userId",method="GET",status="200"\} 3/,
      /recserve_http_request_duration_seconds_count\{route="\/recommend\/:userId",method="GET",status="400"\} 1/,
      /recserve_http_request_duration_seconds_bucket\{le="0\.0001",route=/,
      /recserve_recommendation_duration_seconds_count\{experiment="e",variant="v",source="model"\} 2/,
      /recserve_recommendation_duration_seconds_count\{experiment="e",variant="v",source="static"\} 1/,
      /recserve_exposures_total\{experiment="e",variant="v"\} 3/,
      /recserve_fallbacks_total\{variant="v",source="static",reason="unknown_user"\} 1/,
      /recserve_circuit_breaker_state\{store="popular"\} 0/,
      /recserve_model_info\{model="als",version="\d{8}T\d{6}Z"\} 1/,
      /recserve_model_loads_total\{model="als",result="loaded"\} 1/,
      /recserve_model_last_load_timestamp_seconds\{model="als"\} \d+/,
      /recserve_process_resident_memory_bytes \d+/,
    ]) assert.match(text, pattern);
    assert.doesNotMatch(text, /user-unknown-777|userId="/, 'labels never carry user ids');
  });

  it('counts the fold-in, similar-items and batch routes, and fold-in answers by their source', async (t) => {
    const feed = tempDir(t);
    await publishSynth(feed, 'als', { users: 20, items: 50, rank: 4, training: { regParam: 0.1, implicitPrefs: false, alpha: 1, nonnegative: false, source: 'test' } });
    const stack = await servingStack(feed, ['als']);
    t.after(() => stack.close());
    await stack.store.loadAll();
    await stack.app.inject({ method: 'POST', url: '/recommend', payload: { userId: 'new', interactions: [{ itemId: '3', rating: 4 }] } });
    await stack.app.inject({ method: 'GET', url: '/similar/3' });
    await stack.app.inject({ method: 'POST', url: '/recommend/batch', payload: { userIds: ['1', '2'] } });
    const text = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    for (const pattern of [
      /recserve_http_request_duration_seconds_count\{route="\/recommend",method="POST",status="200"\} 1/,
      /recserve_http_request_duration_seconds_count\{route="\/similar\/:itemId",method="GET",status="200"\} 1/,
      /recserve_http_request_duration_seconds_count\{route="\/recommend\/batch",method="POST",status="200"\} 1/,
      /recserve_recommendation_duration_seconds_count\{experiment="default",variant="als",source="foldin"\} 1/,
      /recserve_exposures_total\{experiment="default",variant="als"\} 3/,
      /recserve_batch_lines_total\{experiment="default",variant="als",source="model"\} 2/,
    ]) assert.match(text, pattern);
    // A batch line waits behind live requests by design: it is counted, not timed with them.
    assert.doesNotMatch(text, /recserve_recommendation_duration_seconds_count\{experiment="default",variant="als",source="model"\}/);
    // Counts are added at each scrape once: a scrape with nothing new shows the same totals, and more lines add up.
    assert.match((await stack.app.inject({ method: 'GET', url: '/metrics' })).body, /recserve_exposures_total\{experiment="default",variant="als"\} 3\n/);
    await stack.app.inject({ method: 'POST', url: '/recommend/batch', payload: { userIds: ['3', '4', '5'] } });
    await stack.app.inject({ method: 'GET', url: '/recommend/6' });
    const later = (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    assert.match(later, /recserve_exposures_total\{experiment="default",variant="als"\} 7\n/);
    assert.match(later, /recserve_batch_lines_total\{experiment="default",variant="als",source="model"\} 5\n/);
    assert.match(later, /recserve_recommendation_duration_seconds_count\{experiment="default",variant="als",source="model"\} 1\n/);
  });

  it('exports the event-loop delay since the previous scrape, beyond its 1 ms sampling', async (t) => {
    const feed = tempDir(t);
    await publishSynth(feed, 'als', { users: 2, items: 5, rank: 2 });
    const stack = await servingStack(feed, ['als']);
    t.after(() => stack.close());
    const scrape = async () => (await stack.app.inject({ method: 'GET', url: '/metrics' })).body;
    const quantile = (text: string, q: string) => Number(new RegExp(`recserve_event_loop_delay_seconds\\{quantile="${q}"\\} (\\S+)`).exec(text)?.[1]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    await scrape();
    // A scrape resets the histogram, whose first sample after a reset only sets its clock.
    await new Promise((resolve) => setTimeout(resolve, 5));
    // Block the event loop for 40 ms: the next sample is at least that late.
    const until = Date.now() + 40;
    while (Date.now() < until);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const text = await scrape();
    assert.ok(quantile(text, '1') >= 0.035, `max ${quantile(text, '1')}`);
    for (const q of ['0.5', '0.9', '0.99']) assert.ok(quantile(text, q) <= quantile(text, '1'), `quantile ${q}`);
  });
});

/** A counter that adds its pending counts at each scrape, and its scrape: the values, sorted. */
function scrapedCounter() {
  const registry = new Registry();
  const counts = countedAtScrape(registry, { name: 'c_total', help: 'h', labelNames: ['a', 'b'] });
  const scrape = async () => (await registry.getSingleMetric('c_total')!.get()).values.map(({ labels, value }) => `${labels.a}/${labels.b}=${value}`).sort();
  return { counts, scrape };
}

describe('countedAtScrape', () => {
  it('adds what was counted to the counter at each scrape, once, counts of the same labels together', async () => {
    const { counts, scrape } = scrapedCounter();
    const x = counts.of({ a: 'x', b: '1' });
    const alsoX = counts.of({ a: 'x', b: '1' });
    const y = counts.of({ a: 'y', b: '2' });
    assert.deepEqual(await scrape(), []);
    x.count += 3;
    alsoX.count += 2;
    y.count++;
    assert.deepEqual(await scrape(), ['x/1=5', 'y/2=1']);
    // Nothing new: the same totals, not added twice.
    assert.deepEqual(await scrape(), ['x/1=5', 'y/2=1']);
    y.count += 4;
    assert.deepEqual(await scrape(), ['x/1=5', 'y/2=5']);
    assert.equal(y.count, 0, 'a scrape empties what it added');
  });
});
