// Run in a fresh process: loads one bundle the way the server does and reports memory.
import { loadBundle } from '../src/model-store/bundle-loader.js';

const [, , name, version, dir] = process.argv;
const before = process.memoryUsage();
const t0 = performance.now();
// As the server loads it: sizes, sha256 of every file, sorted ids, finite factors.
const snapshot = await loadBundle(name!, version!, dir!, { verifyChecksums: true });
const loadMs = performance.now() - t0;
globalThis.gc?.();
const after = process.memoryUsage();
const mb = (n: number) => n / 2 ** 20;
console.log(
  JSON.stringify({
    loadMs,
    matrixMB: mb(snapshot.itemFactors.byteLength + snapshot.userFactors.byteLength),
    rssBeforeMB: mb(before.rss),
    rssMB: mb(after.rss),
    heapUsedMB: mb(after.heapUsed),
    arrayBuffersMB: mb(after.arrayBuffers),
  }),
);
