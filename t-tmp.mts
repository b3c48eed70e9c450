import { loadBundle } from './src/model-store/bundle-loader.ts';
import { listUpdates } from './src/model-store/feed.ts';
import { scorerWith } from './test/helpers/scorer.ts';
import { loadNative } from './src/native-addon.ts';
const u = (await listUpdates('.bench/feed', 'items100k')).at(-1)!;
const s = await loadBundle('m', u.id, u.dir);
const native = loadNative()!;
const user = s.userFactors.subarray(0, 64);
for (const threads of [1, 2]) {
  for (let i = 0; i < 3; i++) await native.topK(s.itemFactors, 64, user, 10, threads);
  const times = [];
  for (let i = 0; i < 50; i++) { const t0 = performance.now(); await native.topK(s.itemFactors, 64, user, 10, threads); times.push(performance.now() - t0); }
  times.sort((a, b) => a - b);
  console.log('native direct threads', threads, times[25].toFixed(3), 'min', times[0].toFixed(3));
}
for (const name of ['native-float32', 'onnx-float32'] as const) {
  const sc = scorerWith([name], { threads: 2 });
  for (let i = 0; i < 5; i++) await sc.topK(s, i, 10);
  const times = [];
  for (let i = 0; i < 50; i++) { const t0 = performance.now(); await sc.topK(s, i, 10); times.push(performance.now() - t0); }
  times.sort((a, b) => a - b);
  console.log(name, times[25].toFixed(3), 'min', times[0].toFixed(3));
  await sc.close();
}
