import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import YAML from 'yaml';
import { CONFIG_DOC, configReference, withSettingsTable } from '../../src/config/reference.js';
import { resolveConfig } from '../../src/config/load.js';

const page = readFileSync(CONFIG_DOC, 'utf8');

describe('the configuration docs', () => {
  it('holds the settings table the schema generates (run npm run docs:config after changing the schema)', () => {
    assert.equal(page, withSettingsTable(page));
  });

  it('lists every setting, nested ones included, each with its meaning', () => {
    const rows = configReference().split('\n').slice(2).filter(Boolean);
    const settings = rows.map((row) => row.split(' | ')[0]!.replace(/^\| `|`$/g, ''));
    for (const setting of ['port', 'scoring.gatherMs', 'fallbacks.<name>.breaker.failures', 'experiments[].variants[].writeBehind.ttlSeconds', 'exposureLog.rotate.maxFiles']) {
      assert.ok(settings.includes(setting), setting);
    }
    for (const row of rows) assert.doesNotMatch(row, /\|\s*\|$/, `a setting without a meaning: ${row}`);
    // A stale table is caught: one row gone, or one default changed.
    assert.notEqual(withSettingsTable(page.replace(/^\| `port` .*\n/m, '')), page.replace(/^\| `port` .*\n/m, ''));
  });

  for (const doc of [CONFIG_DOC, 'README.md']) {
    it(`${doc}: the first YAML example is a config recserve accepts`, () => {
      const example = /```yaml\n([\s\S]*?)```/.exec(readFileSync(doc, 'utf8'))?.[1];
      assert.ok(example, 'the page has a YAML example');
      // The loader itself: defaults, schema and cross-field checks; a password variable the example names is set.
      assert.doesNotThrow(() => resolveConfig(YAML.parse(example) as Record<string, unknown>, doc, { CASSANDRA_PASSWORD: 'x' }));
    });
  }
});
