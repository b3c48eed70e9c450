import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CachedList, FallbackSource } from '../../src/fallback/source.js';

export interface ContractBackend {
  name: string;
  /** A source holding exactly these lists (for a static source: the lists of user "*"). */
  seed(lists: CachedList[]): Promise<FallbackSource>;
  /** Lists are per user (Redis, Cassandra), or one per variant for everyone (static). */
  perUser: boolean;
  /** Stores a raw, possibly corrupt value for (variant, user); absent for read-only sources. */
  writeRaw?(variant: string, userId: string, raw: string): Promise<void>;
  corruptCount?(): number;
}

const items = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => ({ itemId: `${prefix}${i}`, score: count - i + 0.5 }));

/** What every fallback store must do, run against each backend. */
export function fallbackContract(backend: ContractBackend): void {
  describe(`fallback store contract: ${backend.name}`, () => {
    const user = (id: string) => (backend.perUser ? id : '*');

    it('returns a stored list in order, cut to n', async () => {
      const source = await backend.seed([{ variant: 'control', userId: user('u1'), items: items('a', 20) }]);
      assert.deepEqual(await source.lookup('control', 'u1', 5), items('a', 20).slice(0, 5));
      assert.deepEqual(await source.lookup('control', 'u1', 100), items('a', 20));
      await source.close();
    });

    it('keeps variants apart', async () => {
      const source = await backend.seed([
        { variant: 'control', userId: user('u1'), items: items('c', 3) },
        { variant: 'treatment', userId: user('u1'), items: items('t', 3) },
      ]);
      assert.deepEqual(await source.lookup('treatment', 'u1', 10), items('t', 3));
      assert.deepEqual(await source.lookup('control', 'u1', 10), items('c', 3));
      await source.close();
    });

    it('misses with null for a variant it has nothing for', async () => {
      const source = await backend.seed([{ variant: 'control', userId: user('u1'), items: items('a', 2) }]);
      assert.equal(await source.lookup('other-variant', 'u1', 10), null);
      await source.close();
    });

    if (backend.perUser) {
      it('misses with null for a user it has nothing for, and keeps users apart', async () => {
        const source = await backend.seed([
          { variant: 'control', userId: 'u1', items: items('x', 2) },
          { variant: 'control', userId: 'ユーザー', items: items('y', 2) },
        ]);
        assert.equal(await source.lookup('control', 'nobody', 10), null);
        assert.deepEqual(await source.lookup('control', 'ユーザー', 10), items('y', 2));
        await source.close();
      });
    }

    if (backend.writeRaw) {
      it('treats corrupt or oversized payloads as misses, and counts them', async () => {
        const source = await backend.seed([]);
        const before = backend.corruptCount!();
        const bad = ['not json', '{"itemId":"1"}', '[{"itemId":1,"score":2}]', '[{"itemId":"1","score":"high"}]', `[{"itemId":"${'x'.repeat(129)}","score":1}]`, `[${'{"itemId":"1","score":1},'.repeat(60_000)}{"itemId":"1","score":1}]`];
        for (const [i, raw] of bad.entries()) {
          await backend.writeRaw!('control', `bad${i}`, raw);
          assert.equal(await source.lookup('control', `bad${i}`, 10), null, raw.slice(0, 40));
        }
        assert.equal(backend.corruptCount!() - before, bad.length);
        await source.close();
      });
    }
  });
}
