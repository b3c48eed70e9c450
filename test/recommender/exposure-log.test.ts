// The exposure log on its own: lines reach the file while the service runs (not only at shutdown),
// rotation keeps every line, and a file that cannot be written costs lines, never the service.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { exposureFileSink, openExposureLog, type Exposure } from '../../src/recommender/exposure-log.js';
import { tempDir } from '../helpers/fixtures.js';

const exposure = (i: number): Exposure => ({ experiment: 'homepage', variant: i % 2 ? 'a' : 'b', bucket: i, userId: String(i), source: 'model', modelVersion: '20261129T190000Z' });

const linesOf = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

async function until(check: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !check(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(check(), what);
}

describe('exposure log', () => {
  it('writes buffered lines on its flush interval, long before close', async (t) => {
    const file = path.join(tempDir(t), 'sub', 'exposures.jsonl');
    const log = openExposureLog(exposureFileSink(file), { sampleRate: 1, flushIntervalMs: 50 });
    t.after(() => log.close());
    for (let i = 0; i < 5; i++) log.write(exposure(i));
    // Not closed: only the interval can have written them.
    await until(() => linesOf(file).length === 5, 'the five lines reached the file without a close');
    const first = JSON.parse(linesOf(file)[0]!) as Record<string, unknown>;
    assert.deepEqual(Object.keys(first), ['time', 'experiment', 'variant', 'bucket', 'userId', 'source', 'modelVersion']);
    log.write(exposure(5));
    await log.close();
    assert.equal(linesOf(file).length, 6, 'close writes what is left');
  });

  it('rotates by size and keeps every line, each whole', async (t) => {
    const dir = tempDir(t);
    const file = path.join(dir, 'exposures.jsonl');
    const log = openExposureLog(exposureFileSink(file, { size: '2K' }), { sampleRate: 1, flushIntervalMs: 10 });
    for (let i = 0; i < 200; i++) {
      log.write(exposure(i));
      if (i % 20 === 19) await new Promise((r) => setTimeout(r, 30));
    }
    await log.close();
    const files = readdirSync(dir).filter((n) => n.startsWith('exposures'));
    assert.ok(files.length >= 2, `rotated into ${files.join(', ')}`);
    assert.ok(files.some((n) => /^exposures\.\d{8}-\d{6}\.\d+\.jsonl$/.test(n)), `rotated names: ${files.join(', ')}`);
    const users = files.flatMap((n) => linesOf(path.join(dir, n)).map((l) => (JSON.parse(l) as Exposure).userId));
    assert.deepEqual(users.map(Number).sort((a, b) => a - b), Array.from({ length: 200 }, (_, i) => i));
  });

  it('a file that cannot be written loses its lines, reports it, and never throws into a request', async (t) => {
    // A folder where the file should be: unwritable even for root.
    const file = path.join(tempDir(t), 'taken');
    mkdirSync(file);
    const errors: string[] = [];
    const log = openExposureLog(exposureFileSink(file), { sampleRate: 1, flushIntervalMs: 10, onError: (err) => errors.push(err.message) });
    log.write(exposure(1));
    await until(() => errors.length > 0, 'the failed write was reported');
    log.write(exposure(2));
    await log.close().catch(() => undefined);
  });
});
