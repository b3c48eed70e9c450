import { once } from 'node:events';
import { Worker } from 'node:worker_threads';

// Each thread holds two equal buffers; Buffer.compare runs glibc's vectorised memcmp over both, streaming them from DRAM.
const STREAMER = `
const { parentPort, workerData } = require('node:worker_threads');
const a = Buffer.alloc(workerData.bytes, 7);
const b = Buffer.alloc(workerData.bytes, 7);
parentPort.on('message', () => {
  if (Buffer.compare(a, b) !== 0) throw new Error('buffers differ');
  parentPort.postMessage('done');
});
parentPort.postMessage('ready');
`;

/**
 * The machine's memory read bandwidth with `threads` threads streaming at once: each compares its own
 * two buffers of `mibPerBuffer` MiB. Best of a few passes, in GB/s.
 */
export async function readBandwidthGBs(threads = 1, mibPerBuffer = 512 / threads, passes = 5): Promise<number> {
  const bytes = Math.floor(mibPerBuffer * 2 ** 20);
  const workers = Array.from({ length: threads }, () => new Worker(STREAMER, { eval: true, workerData: { bytes } }));
  try {
    await Promise.all(workers.map((w) => once(w, 'message')));
    let best = Infinity;
    for (let i = 0; i < passes; i++) {
      const t0 = performance.now();
      const done = workers.map((w) => once(w, 'message'));
      for (const w of workers) w.postMessage('go');
      await Promise.all(done);
      best = Math.min(best, performance.now() - t0);
    }
    return (threads * 2 * bytes) / (best / 1000) / 1e9;
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
