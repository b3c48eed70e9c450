import { loadNative } from './src/native-addon.ts';
const native = loadNative()!;
const items = new Float32Array(64), user = new Float32Array(64);
for (let i = 0; i < 100; i++) await native.topK(items, 64, user, 1, 1);
const times = [];
for (let i = 0; i < 2000; i++) { const t0 = performance.now(); await native.topK(items, 64, user, 1, 1); times.push(performance.now() - t0); }
times.sort((a, b) => a - b);
console.log('async round trip median', (times[1000] * 1000).toFixed(1), 'us, p99', (times[1980] * 1000).toFixed(1));
