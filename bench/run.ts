// `npm run bench`: kernels, memory and HTTP, printed as the tables the README records.
// Figures drift between machines and runs: compare ratios taken within one run.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { readBandwidthGBs } from './bandwidth.js';
import { benchBucket } from './bucket.js';
import { ensureCommand } from './debian.js';
import { benchFallback } from './fallback.js';
import { benchReload, benchSwapLatency } from './reload.js';
import { benchWorkersMemory } from './workers-memory.js';
import { benchKernels } from './kernels.js';
import { benchFixtureModel, benchModel, BENCH_FEED, type Shape } from './feed.js';
import { benchPeer, peerAvailable } from './peer.js';
import { timeToReady } from './startup.js';
import { chosenKernels, eventLoopDelayP99, startServer } from './http.js';
import { userIdsFile, WRK_IDS } from './peer.js';
import { wrk } from './wrk.js';
import { batchThroughput, discoveryRounds, itemIdsFile, WRK_POST } from './discovery.js';
import { fmt, fmtSteal, median } from './stats.js';
import { cpuFlags, describeMachine } from './machine.js';
import { CPU_FLAG, fmaPeak } from './fma-peak.js';

const SHAPES: Shape[] = [
  { name: 'items100k', users: 10_000, items: 100_000, rank: 64 },
  { name: 'items1m', users: 10_000, items: 1_000_000, rank: 64 },
];
/** The same models with int8 item codes beside the float32 factors. */
const INT8_SHAPES: Shape[] = SHAPES.map((s) => ({ ...s, name: `${s.name}-int8`, itemEncoding: 'int8' }));
const quick = process.argv.includes('--quick');
/** `--only http,peers`: the named sections alone (kernels, memory, startup, http, discovery, bucket, fallback, reload, peers). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1]?.split(',') : undefined;
const want = (section: string) => only === undefined || only.includes(section);
const shapeLabel = (s: { items: number; rank: number }) => `${s.items.toLocaleString('en-US')} x ${s.rank}`;

console.log(describeMachine() + '\n');
const mllatest = await benchFixtureModel('int8');
// The float32 models the later sections serve; warm in the page cache, as a server's would be after the writer.
for (const shape of SHAPES) await benchModel(shape);
execFileSync('npm', ['run', 'build', '--silent'], { stdio: 'inherit' });

if (want('kernels')) {
  const subjects = [
    ...(await Promise.all(INT8_SHAPES.map(async (s) => ({ label: shapeLabel(s), items: s.items, rank: s.rank, ...(await benchModel(s)) })))),
    { label: '43,331 x 15 (real fixture)', items: 43_331, rank: 15, ...mllatest },
  ];
  const kernels = await benchKernels(subjects, quick ? 1000 : 4000, quick ? 100 : 500);
  console.log('## Scoring kernels (one top-10 request at a time)\n');
  console.log('| model (items x rank) | kernel | item encoding | threads | median ms | p99 ms | speed-up vs js | int8 vs native float32, same threads | recall@10 |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of kernels) {
    const js = kernels.find((k) => k.model === r.model && k.kernel === 'js')!;
    const nativeFloat32 = kernels.find((k) => k.model === r.model && k.kernel === 'native-float32' && k.threads === r.threads);
    const vsNative = r.encoding === 'int8' && nativeFloat32 ? `${fmt(nativeFloat32.timing.median / r.timing.median, 2)}x` : '';
    console.log(
      `| ${r.model} | ${r.kernel} | ${r.encoding} | ${r.threads} | ${fmt(r.timing.median, 3)} | ${fmt(r.timing.p99, 3)} | ${fmt(js.timing.median / r.timing.median, 1)}x | ${vsNative} | ${fmt(r.recall, 4)} |`,
    );
  }

  const bandwidth = { 1: await readBandwidthGBs(1), 2: await readBandwidthGBs(2) };
  console.log(`\nRead bandwidth (memcmp streaming 2 x 512 MiB in total): ${fmt(bandwidth[1], 1)} GB/s with 1 thread, ${fmt(bandwidth[2], 1)} GB/s with 2.`);
  console.log('Time per request as a ratio to float32 itemMatrixBytes / bandwidth of as many threads (below 1: faster than streaming the float32 matrix):\n');
  console.log('| model (items x rank) | float32 item matrix | at 1-thread bandwidth | at 2-thread bandwidth | onnx-float32, 1 thread | 2 threads | native-float32, 1 thread | 2 threads | FAISS IndexFlatIP, 1 thread | 2 threads | onnx-int8, 1 thread | 2 threads | native-int8, 1 thread | 2 threads |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const subject of subjects) {
    const bytes = subject.items * subject.rank * 4;
    const floor = (threads: 1 | 2) => (bytes / (bandwidth[threads] * 1e9)) * 1000;
    const ratio = (kernel: string, encoding: string, threads: 1 | 2) => {
      const r = kernels.find((k) => k.model === subject.label && k.kernel === kernel && k.encoding === encoding && k.threads === threads);
      return r ? `${fmt(r.timing.median / floor(threads), 2)}x` : 'n/a';
    };
    const cells = ['onnx-float32', 'native-float32', 'faiss-flat-ip', 'onnx-int8', 'native-int8'].flatMap((kernel) => [ratio(kernel, kernel.endsWith('int8') ? 'int8' : 'float32', 1), ratio(kernel, kernel.endsWith('int8') ? 'int8' : 'float32', 2)]);
    console.log(`| ${subject.label} | ${fmt(bytes / 1e6, 1)} MB | ${fmt(floor(1), 3)} ms | ${fmt(floor(2), 3)} ms | ${cells.join(' | ')} |`);
  }

}

if (want('memory')) {
  console.log('\n## Memory after loading the 1,000,000 x 64 bundle (fresh process)\n');
  const big = await benchModel(SHAPES[1]!);
  execFileSync('sh', ['-c', `cat "${big.dir}"/*.f32 "${big.dir}"/*.i32 > /dev/null`]);
  const memory = JSON.parse(execFileSync(process.execPath, ['--expose-gc', '--import', 'tsx', 'bench/memory-probe.ts', 'items1m', big.id, big.dir], { encoding: 'utf8' }));
  console.log('| factors mapped | load + validate (sha256, ids, finite) | RSS before | RSS after | JS heap used | ArrayBuffers on heap |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  console.log(`| ${fmt(memory.matrixMB, 0)} MB | ${fmt(memory.loadMs, 0)} ms | ${fmt(memory.rssBeforeMB, 0)} MB | ${fmt(memory.rssMB, 0)} MB | ${fmt(memory.heapUsedMB, 1)} MB | ${fmt(memory.arrayBuffersMB, 1)} MB |`);

  console.log('\n## Memory of the whole server with 1 and 2 workers, 1,000,000 x 64 model (every worker warmed)\n');
  console.log('| workers | processes | total RSS | total PSS (shared pages split) |');
  console.log('| --- | --- | --- | --- |');
  for (const m of await benchWorkersMemory('items1m', SHAPES[1]!.users)) console.log(`| ${m.workers} | ${m.processes} | ${fmt(m.rssMb, 0)} MB | ${fmt(m.pssMb, 0)} MB |`);

}

if (want('startup')) {
  console.log('\n## Start-up: spawn to /readyz 200 (integrity verified, as by default)\n');
  await benchModel(INT8_SHAPES[1]!);
  console.log('The first start hashes every file (sha256) and records the verified digests; later starts reuse a record while its file keeps its device, inode, size and mtime.\n');
  console.log('| model | workers | first start ms (files hashed) | later start ms (median of 3, records reused) |');
  console.log('| --- | --- | --- | --- |');
  for (const [label, model] of [['1,000,000 x 64, float32', 'items1m'], ['1,000,000 x 64, int8 codes too', 'items1m-int8']]) {
    for (const workers of [1, 2]) {
      const first = await timeToReady(model!, workers, { forgetDigests: true });
      const times: number[] = [];
      for (let i = 0; i < 3; i++) times.push(await timeToReady(model!, workers));
      console.log(`| ${label} | ${workers} | ${fmt(first, 0)} | ${fmt(times.sort((a, b) => a - b)[1]!, 0)} |`);
    }
  }

}

if (want('http')) {
  console.log('\n## HTTP: one server process, continuous batching (wrk, 1 thread, random users, n=10, 100,000 x 64)\n');
  console.log('The kernels column is what /models reports the load chose (lone / batched); event-loop delay is read from /metrics over the run.\n');
  console.log('| model | scoring.batching | kernels | connections | req/s | p50 ms | p99 ms | event-loop delay p99 ms | VM steal % | non-2xx | errors |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const model of ['items100k', 'items100k-int8']) {
    for (const batching of [true, false]) {
      const config = path.resolve('.bench', `http-${model}-${batching}.yaml`);
      writeFileSync(config, `feed: ${BENCH_FEED}\nmodels: [{name: ${model}}]\nscoring: {batching: ${batching}}\n`);
      const server = await startServer(['--config', config]);
      try {
        const kernels = await chosenKernels(server.url);
        const ids = await userIdsFile(model);
        await wrk('warm-up', server.url, WRK_IDS, { IDS_FILE: ids }, 8, 2);
        for (const connections of [1, 8, 64]) {
          await eventLoopDelayP99(server.url);
          const r = await wrk(String(batching), server.url, WRK_IDS, { IDS_FILE: ids }, connections, quick ? 5 : 15);
          const delay = await eventLoopDelayP99(server.url);
          console.log(`| ${model} | ${batching} | ${kernels} | ${connections} | ${fmt(r.requestsPerSec, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmt(delay, 2)} | ${fmtSteal(r.steal)} | ${r.non2xx} | ${r.errors} |`);
        }
      } finally {
        await server.stop();
      }
    }
  }

}

if (want('discovery')) {
  console.log('\n## Fold-in, similar items and batches (one server process, 100,000 x 64 float32, n=10)\n');
  const trained: Shape = { name: 'items100k-trained', users: 10_000, items: 100_000, rank: 64, training: { regParam: 0.1, implicitPrefs: false, alpha: 1, nonnegative: false, source: 'bench' } };
  await benchModel(trained);
  const server = await startServer(['--feed', BENCH_FEED, '--model', trained.name]);
  try {
    const users = await userIdsFile(trained.name);
    const items = await itemIdsFile(trained.name);
    const rounds = await discoveryRounds(server.url, users, items, quick ? 2 : 3, quick ? 3 : 5);
    console.log(`Kernels: ${await chosenKernels(server.url)}. Fold-in requests carry 20 ratings of random items for a visitor the model has never seen; similar-items requests ask for random items.`);
    console.log('Each round runs every route at 8 connections, then batches of 1,000 random users one at a time (wrk, 1 connection), back to back: each ratio is taken within a round. VM steal: the share of CPU time the hypervisor took during each run (GET / fold-in / similar / batches).\n');
    console.log('| round | GET req/s (p99 ms) | fold-in req/s (p50, p99 ms) | similar req/s (p99 ms) | batches users/s (median ms) | batches / GET | similar / GET | VM steal % |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    rounds.forEach(({ get, foldIn, similar, batch }, i) =>
      console.log(
        `| ${i + 1} | ${fmt(get.requestsPerSec, 0)} (${fmt(get.p99, 2)}) | ${fmt(foldIn.requestsPerSec, 0)} (${fmt(foldIn.p50, 2)}, ${fmt(foldIn.p99, 2)}) | ${fmt(similar.requestsPerSec, 0)} (${fmt(similar.p99, 2)}) | ` +
          `${fmt(batch.usersPerSec, 0)} (${fmt(batch.medianMs, 0)}) | ${fmt(batch.usersPerSec / get.requestsPerSec, 2)}x | ${fmt(similar.requestsPerSec / get.requestsPerSec, 2)}x | ` +
          [get.steal, foldIn.steal, similar.steal, batch.steal].map(fmtSteal).join(' / ') + ' |',
      ),
    );
    const singles = median(rounds.map((r) => r.get.requestsPerSec));
    const batchRate = median(rounds.map((r) => r.batch.usersPerSec));
    console.log(
      `\nMedians of ${rounds.length} rounds: batches of 1,000 ${fmt(median(rounds.map((r) => r.batch.usersPerSec / r.get.requestsPerSec)), 2)}x the users per second of single requests at 8 connections; ` +
        `similar items ${fmt(median(rounds.map((r) => r.similar.requestsPerSec / r.get.requestsPerSec)), 2)}x the rate of recommendations; fold-in p99 ${fmt(median(rounds.map((r) => r.foldIn.p99)), 2)} ms.`,
    );
    // What any float32 scan can reach here, at each vector width the CPU has (the scan uses AVX-512 where it
    // may, AVX2 otherwise): the ceiling of the batch figure when native-float32 serves. native-int8 does the
    // same work as integer products of its codes, so its figure is float32-equivalent and may pass the peak.
    const gfma = (usersPerSec: number) => (usersPerSec * trained.items * trained.rank) / 1e9;
    const flags = cpuFlags();
    const peaks = (['avx2', 'avx512'] as const)
      .filter((width) => flags.has(CPU_FLAG[width]))
      .map((width) => ({ width, peak: fmaPeak(width, 2) }));
    const shown = peaks.map(({ width, peak }) => ('gfmaPerSec' in peak ? `${fmt(peak.gfmaPerSec, 1)} GFMA/s with ${width.toUpperCase()}` : `${width.toUpperCase()} not measured: ${peak.reason}`));
    console.log(
      `Batches did the work of ${fmt(gfma(batchRate), 1)} GFMA/s (float32 multiply-adds, every item scored; medians); five times the single requests' rate would take ${fmt(gfma(5 * singles), 1)} GFMA/s. ` +
        `This machine's float32 peak (bench/fma-peak.c: fused multiply-adds alone, 2 threads): ${shown.join(', ') || 'not measured (no AVX2)'}.`,
    );
  } finally {
    await server.stop();
  }
  // Fold-in on an implicit-feedback model of the same shape: the k x k normal equations and their solve
  // (docs/fold-in.md), where the explicit model's visitors take the m x m shortcut.
  const implicit: Shape = { ...trained, name: 'items100k-implicit', training: { ...trained.training!, implicitPrefs: true, alpha: 2 } };
  await benchModel(implicit);
  const implicitServer = await startServer(['--feed', BENCH_FEED, '--model', implicit.name]);
  try {
    const env = { IDS_FILE: await itemIdsFile(implicit.name), POST_KIND: 'foldin' };
    await wrk('warm-up', implicitServer.url, WRK_POST, env, 8, 2);
    const runs = [];
    for (let r = 0; r < (quick ? 2 : 3); r++) runs.push(await wrk('fold-in', implicitServer.url, WRK_POST, env, 8, quick ? 3 : 5));
    const shown = runs.map((r) => `${fmt(r.requestsPerSec, 0)} req/s, p50 ${fmt(r.p50, 2)} ms, p99 ${fmt(r.p99, 2)} ms (VM steal ${fmtSteal(r.steal)}%)`);
    console.log(`Fold-in on an implicit-feedback model of the same shape (alpha 2), 8 connections, by run: ${shown.join('; ')}.`);
  } finally {
    await implicitServer.stop();
  }
  // The same comparison on the int8 bundle, whose first pass does more per instruction.
  await benchModel(INT8_SHAPES[0]!);
  const int8 = await startServer(['--feed', BENCH_FEED, '--model', 'items100k-int8']);
  try {
    const users = await userIdsFile('items100k-int8');
    await wrk('warm-up', int8.url, WRK_IDS, { IDS_FILE: users }, 8, 2);
    const pairs = [];
    for (let r = 0; r < (quick ? 2 : 3); r++) {
      const singles = await wrk('int8', int8.url, WRK_IDS, { IDS_FILE: users }, 8, quick ? 3 : 5);
      pairs.push({ singles, batch: await batchThroughput(int8.url, users, 1000, quick ? 3 : 5) });
    }
    const shown = pairs.map(({ singles, batch }) => `${fmt(singles.requestsPerSec, 0)} req/s and ${fmt(batch.usersPerSec, 0)} users/s, ${fmt(batch.usersPerSec / singles.requestsPerSec, 2)}x (VM steal ${fmtSteal(singles.steal)} / ${fmtSteal(batch.steal)}%)`);
    console.log(
      `int8 bundle (${await chosenKernels(int8.url)}), single requests at 8 connections then batches of 1,000, by round: ${shown.join('; ')}. ` +
        `Median: ${fmt(median(pairs.map(({ singles, batch }) => batch.usersPerSec / singles.requestsPerSec)), 2)}x.`,
    );
  } finally {
    await int8.stop();
  }
}

if (want('bucket')) {
  console.log('\n## Bucketing (1,000,000 ids)\n');
  const bucket = benchBucket();
  console.log('| what | ids per second |');
  console.log('| --- | --- |');
  console.log(`| \`recserve bucket\` CSV -> CSV, end to end (process start included) | ${fmt(bucket.cliIdsPerSec, 0)} |`);
  for (const [hash, rate] of Object.entries(bucket.functionIdsPerSec)) console.log(`| assignment function alone, ${hash} | ${fmt(rate, 0)} |`);

}

if (want('fallback')) {
  console.log('\n## Fallback answers from Redis (100,000 x 64 model, 8 connections, one server process)\n');
  if (!process.env.REDIS_URL && !ensureCommand('redis-server', ['--version'], 'redis-server')) {
    console.log('Skipped: needs redis-server on the PATH (apt-get install redis-server) or REDIS_URL.');
  } else {
    const fallback = await benchFallback(SHAPES[0]!.users, quick ? 5 : 10);
    console.log('| answered by | req/s | p50 ms | p99 ms | non-2xx | errors |');
    console.log('| --- | --- | --- | --- | --- | --- |');
    for (const r of fallback.http) console.log(`| ${r.label} | ${fmt(r.requestsPerSec, 0)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`);
    console.log(`\n\`load-recs\` into the local redis-server: ${fmt(fallback.usersPerSec, 0)} users/s (100,000 users x 10 items from Spark-layout parquet).`);
  }

}

if (want('reload')) {
  console.log('\n## Hot reload (server following the feed: file events plus a 1 s poll; sha256 verified)\n');
  const reloads = await benchReload(SHAPES, quick ? 2 : 5);
  console.log('| model (items x rank) | _SUCCESS to serving, median ms | max ms | trials |');
  console.log('| --- | --- | --- | --- |');
  for (const r of reloads) {
    const sorted = [...r.successToServing].sort((a, b) => a - b);
    console.log(`| ${r.shape.items.toLocaleString('en-US')} x ${r.shape.rank} | ${fmt(sorted[Math.floor(sorted.length / 2)]!, 0)} | ${fmt(sorted.at(-1)!, 0)} | ${sorted.length} |`);
  }
  const swap = await benchSwapLatency(SHAPES[0]!, quick ? 6 : 12);
  console.log('\n| 100,000 x 64, 8 connections | req/s | p50 ms | p99 ms | non-2xx | errors |');
  console.log('| --- | --- | --- | --- | --- | --- |');
  for (const r of [swap.steady, swap.swapping]) console.log(`| ${r.label} | ${fmt(r.requestsPerSec, 0)} | ${r.p50} | ${r.p99} | ${r.non2xx} | ${r.errors} |`);
  console.log(`\n(${swap.swaps} swaps during the second run.)`);

}

if (want('peers')) {
  console.log('\n## Side by side with the FastAPI + numpy and FastAPI + FAISS peers (wrk, 1 thread, 8 connections, same machine)\n');
  const peer = peerAvailable();
  if (!peer.ok) console.log(`Skipped: the peers ${peer.why}.`);
  else {
    const mllatestFloat32 = await benchFixtureModel('float32');
    const rows = await benchPeer(
      [
        { label: '100,000 x 64', items: 100_000, rank: 64, models: [['float32', 'items100k'], ['int8', 'items100k-int8']] },
        { label: '43,331 x 15', items: 43_331, rank: 15, models: [['float32', mllatestFloat32.name], ['int8', mllatest.name]] },
      ],
      quick ? 5 : 15,
      ['1', '2'],
    );
    console.log('| model (items x rank) | server | req/s | p50 ms | p99 ms | VM steal % | non-2xx | errors | req/s vs numpy peer | vs FAISS peer |');
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
    for (const r of rows) {
      const base = (name: string) => rows.find((p) => p.shape === r.shape && p.label.startsWith(name));
      const vs = (name: string) => {
        const b = base(name);
        return b ? `${fmt(r.requestsPerSec / b.requestsPerSec, 1)}x` : 'n/a';
      };
      console.log(`| ${r.shape} | ${r.label} | ${fmt(r.requestsPerSec, 0)} | ${fmt(r.p50, 2)} | ${fmt(r.p99, 2)} | ${fmtSteal(r.steal)} | ${r.non2xx} | ${r.errors} | ${vs('FastAPI + numpy')} | ${vs('FastAPI + FAISS')} |`);
    }
  }
}
process.exit(0);
