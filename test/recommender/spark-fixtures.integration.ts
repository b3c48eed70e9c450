import { describe, it } from 'node:test';
import { LARGE_FIXTURE, optionalFixture } from '../helpers/fixtures.js';
import { serveAndCheckUsers } from '../helpers/serve-check.js';

describe('served top-10 equals a brute-force float32 reference for every user of the large Spark fixture', () => {
  const large = optionalFixture(LARGE_FIXTURE);
  it(`${LARGE_FIXTURE} (the kernels measured fastest)`, { timeout: 15 * 60_000 }, async (t) => {
    if ('skip' in large) return t.skip(large.skip);
    await serveAndCheckUsers(LARGE_FIXTURE, undefined, t);
  });
});
