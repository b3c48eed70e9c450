/**
 * The machine's memory read bandwidth for one thread: Buffer.compare of two equal 512 MiB buffers runs
 * glibc's vectorised memcmp over both, so it streams 1 GiB from DRAM. Best of a few passes.
 */
export function readBandwidthGBs(mib = 512, passes = 5): number {
  const a = Buffer.alloc(mib * 2 ** 20, 7);
  const b = Buffer.alloc(mib * 2 ** 20, 7);
  let best = Infinity;
  for (let i = 0; i < passes; i++) {
    const t0 = performance.now();
    if (Buffer.compare(a, b) !== 0) throw new Error('buffers differ');
    best = Math.min(best, performance.now() - t0);
  }
  return (2 * a.length) / (best / 1000) / 1e9;
}
