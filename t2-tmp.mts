import { loadBundle } from './src/model-store/bundle-loader.ts';
import { listUpdates } from './src/model-store/feed.ts';
import { loadNative } from './src/native-addon.ts';
const u = (await listUpdates('.bench/feed', 'items100k')).at(-1)!;
const s = await loadBundle('m', u.id, u.dir);
const native = loadNative()!;
const user = s.userFactors.subarray(0, 64);
const copy = new Float32Array(s.itemFactors);
for (const [label, items] of [['mapped', s.itemFactors], ['heap copy', copy]] as const) {
  for (const threads of [1, 2]) {
    for (let i = 0; i < 3; i++) await native.topK(items, 64, user, 10, threads);
    const times = [];
    for (let i = 0; i < 100; i++) { const t0 = performance.now(); await native.topK(items, 64, user, 10, threads); times.push(performance.now() - t0); }
    times.sort((a, b) => a - b);
    console.log(label, 'threads', threads, times[50].toFixed(3), 'min', times[0].toFixed(3), 'pool', native.poolThreads());
  }
}
