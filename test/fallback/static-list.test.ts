import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { RecserveError } from '../../src/errors.js';
import { loadStaticList } from '../../src/fallback/static-list.js';
import { tempDir } from '../helpers/fixtures.js';

describe('static item lists', () => {
  it('reads scored items, or bare ids scored by rank', (t) => {
    const dir = tempDir(t);
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify([{ itemId: '5', score: 0.5 }, { itemId: 7, score: 0.25 }]));
    writeFileSync(path.join(dir, 'b.json'), JSON.stringify(['9', 3, 'x']));
    assert.deepEqual(loadStaticList(path.join(dir, 'a.json')), [{ itemId: '5', score: 0.5 }, { itemId: '7', score: 0.25 }]);
    assert.deepEqual(loadStaticList(path.join(dir, 'b.json')), [{ itemId: '9', score: 3 }, { itemId: '3', score: 2 }, { itemId: 'x', score: 1 }]);
  });

  it('rejects malformed files, naming the file and the entry', (t) => {
    const dir = tempDir(t);
    const cases: [string, RegExp][] = [
      ['{"items": 1}', /must hold a non-empty JSON array/],
      ['[]', /must hold a non-empty JSON array/],
      ['[1, 1]', /entry 1: item 1 is listed twice/],
      ['[{"itemId": "a", "score": "high"}]', /entry 0: score must be a finite number/],
      ['[{"score": 1}]', /entry 0: itemId must be 1\.\.128 characters/],
      ['[null]', /entry 0 is neither an id nor \{itemId, score\}/],
      ['[1,', /cannot read a JSON list/],
    ];
    for (const [i, [text, message]] of cases.entries()) {
      const file = path.join(dir, `bad${i}.json`);
      writeFileSync(file, text);
      assert.throws(() => loadStaticList(file), (err: unknown) => err instanceof RecserveError && err.code === 'static_list_invalid' && err.message.startsWith(file) && message.test(err.message));
    }
  });
});
