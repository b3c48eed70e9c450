import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RecserveError } from '../../src/errors.js';
import { StaticSource } from '../../src/fallback/static-source.js';
import { fallbackContract } from './contract.js';
import { tempDir } from '../helpers/fixtures.js';

const dir = mkdtempSync(path.join(tmpdir(), 'recserve-static-'));
let count = 0;

fallbackContract({
  name: 'static (JSON file)',
  perUser: false,
  async seed(lists) {
    const file = path.join(dir, `lists${count++}.json`);
    writeFileSync(file, JSON.stringify(Object.fromEntries(lists.map((l) => [l.variant, l.items]))));
    return new StaticSource('static', file);
  },
});

describe('static source', () => {
  it('serves a shared list to every variant and user, or a variant list before the shared one', async (t) => {
    const d = tempDir(t);
    writeFileSync(path.join(d, 'shared.json'), '["1", "2", "3"]');
    writeFileSync(path.join(d, 'byVariant.json'), JSON.stringify({ control: ['9'], '*': ['1', '2'] }));
    const shared = new StaticSource('s', path.join(d, 'shared.json'));
    assert.deepEqual(await shared.lookup('any', 'anyone', 2), [{ itemId: '1', score: 3 }, { itemId: '2', score: 2 }]);
    const byVariant = new StaticSource('s', path.join(d, 'byVariant.json'));
    assert.deepEqual(await byVariant.lookup('control', 'u', 5), [{ itemId: '9', score: 1 }]);
    assert.deepEqual(await byVariant.lookup('other', 'u', 5), [{ itemId: '1', score: 2 }, { itemId: '2', score: 1 }]);
  });

  it('refuses a malformed file at start-up, naming the file and the list', (t) => {
    const d = tempDir(t);
    writeFileSync(path.join(d, 'bad.json'), JSON.stringify({ control: [{ itemId: 'a', score: 'x' }] }));
    assert.throws(() => new StaticSource('s', path.join(d, 'bad.json')), (err: unknown) => err instanceof RecserveError && /bad\.json \[control\]: entry 0: score must be a finite number/.test(err.message));
    writeFileSync(path.join(d, 'empty.json'), '{}');
    assert.throws(() => new StaticSource('s', path.join(d, 'empty.json')), /must hold a list, or an object of lists by variant/);
  });
});
