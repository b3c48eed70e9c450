import { describe, it } from 'node:test';
import { fixtureNames, LARGE_FIXTURE, LARGE_FIXTURE_SAMPLE, optionalFixture } from '../helpers/fixtures.js';
import { serveAndCheckUsers } from '../helpers/serve-check.js';

describe('served top-10 equals a brute-force float32 reference for every user of every Spark fixture', () => {
  for (const fixture of fixtureNames().filter((f) => f !== LARGE_FIXTURE)) {
    it(`${fixture} (the kernels measured fastest)`, async (t) => {
      await serveAndCheckUsers(fixture, undefined, t);
    });
    for (const kernel of ['native-float32', 'onnx-float32', 'js'] as const) {
      it(`${fixture} (${kernel} alone)`, async (t) => {
        await serveAndCheckUsers(fixture, [kernel], t);
      });
    }
    // A configuration must list a float32 kernel for machines without the addon; the chooser then takes
    // native-int8, the only one off the event loop, for every request.
    it(`${fixture} (native-int8, with js listed)`, async (t) => {
      await serveAndCheckUsers(fixture, ['native-int8', 'js'], t, 1, 'native-int8');
    });
  }
  // Every user of the large save takes 95 s: the integration suite checks them all, this suite a sample.
  const large = optionalFixture(LARGE_FIXTURE);
  it(`${LARGE_FIXTURE}, every ${LARGE_FIXTURE_SAMPLE}th user (the kernels measured fastest)`, async (t) => {
    if ('skip' in large) return t.skip(large.skip);
    await serveAndCheckUsers(LARGE_FIXTURE, undefined, t, LARGE_FIXTURE_SAMPLE);
  });
});
