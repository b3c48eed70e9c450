import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Counter, Registry } from 'prom-client';
import { PendingCounts } from '../src/metrics.js';

/** A counter whose scrape adds what the pending counts hold, as createMetrics wires it. */
function counterWith(counts: PendingCounts) {
  const registry = new Registry();
  new Counter({ name: 'c_total', help: 'h', labelNames: ['a', 'b'] as const, registers: [registry], collect() { counts.addTo(this); } });
  return async () => (await registry.getSingleMetric('c_total')!.get()).values.map(({ labels, value }) => `${labels.a}/${labels.b}=${value}`).sort();
}

describe('PendingCounts', () => {
  it('adds what was counted to the counter at each scrape, once, counts of the same labels together', async () => {
    const counts = new PendingCounts();
    const scrape = counterWith(counts);
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
