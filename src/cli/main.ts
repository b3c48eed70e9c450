#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isRecserveError, RecserveError } from '../errors.js';
import { ITEM_ENCODINGS, type ItemEncoding } from '../model-store/quantize.js';
import { progressBar, type Progress } from './progress.js';
import { serve } from './serve.js';
// Each command imports what it needs when it runs: `serve` starts faster without parquet, drivers and friends.

function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

function nonNegativeNumber(value: string): number {
  const number = Number(value);
  if (value.trim() === '' || !Number.isFinite(number) || number < 0) throw new InvalidArgumentError('must be a number >= 0');
  return number;
}

interface ImportSparkOptions {
  feed: string;
  name: string;
  itemEncoding: ItemEncoding;
  estimator?: string;
  regParam?: number;
  alpha?: number;
  implicitPrefs?: boolean;
  nonnegative?: boolean;
}

function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}

/** Both model writers take the same choice of item encoding. */
const itemEncodingOption = () =>
  new Option('--item-encoding <encoding>', 'also write int8 item codes (a scale per item) for a faster first pass, re-scored exactly in float32')
    .choices(ITEM_ENCODINGS)
    .default('float32');

/** This package's version, from the package.json above this file (src/cli/ when run from source, dist/ when bundled). */
function ownVersion(): string {
  for (let dir = path.dirname(fileURLToPath(import.meta.url)), i = 0; i < 4; i++, dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'recserve' && pkg.version) return pkg.version;
    } catch {
      // not here: look one folder up
    }
  }
  return 'unknown';
}

const program = new Command('recserve')
  .description('Serve Spark ALS recommendations from memory-mapped bundles')
  .version(ownVersion(), '-V, --version', 'print the version')
  .showHelpAfterError();

program
  .command('serve')
  .description('serve GET /recommend/:userId from the newest update of each model')
  .option('-c, --config <file>', 'config file (YAML or JSON); default: $RECSERVE_CONFIG')
  .option('--feed <root>', 'feed root holding <model>/v1/<updateId>/')
  .option('--model <name>', 'a model to serve (repeat for more; the first is the default)', collect)
  .option('--port <n>', 'port to listen on (default 8080)')
  .option('--host <host>', 'address to bind (default 0.0.0.0)')
  .action(serve);

program
  .command('import-spark')
  .description('import a Spark ALSModel save as a new feed update')
  .argument('<alsModelDir>', 'the folder ALSModel.write().save(path) wrote')
  .requiredOption('--feed <root>', 'feed root')
  .requiredOption('--name <model>', 'model name in the feed')
  .addOption(itemEncodingOption())
  .option('--estimator <dir>', "the ALS estimator's save (als.write().save(dir)), for fold-in; default: <alsModelDir>/estimator when present")
  .option('--reg-param <x>', 'training regParam, for fold-in (instead of an estimator save)', nonNegativeNumber)
  .option('--alpha <x>', 'training alpha (implicit feedback), for fold-in', nonNegativeNumber)
  .option('--implicit-prefs', 'the model was trained with implicitPrefs=true')
  .option('--nonnegative', 'the model was trained with nonnegative=true')
  .action(async (saveDir: string, options: ImportSparkOptions) => {
    const { importSparkSave } = await import('../spark/import.js');
    let bar: Progress | undefined;
    const showProgress = (folder: 'userFactors' | 'itemFactors') => {
      bar?.stop();
      bar = progressBar(folder);
      return bar;
    };
    const overrides = { regParam: options.regParam, alpha: options.alpha, implicitPrefs: options.implicitPrefs, nonnegative: options.nonnegative };
    const update = await importSparkSave(saveDir, options.feed, options.name, showProgress, options.itemEncoding, { estimatorDir: options.estimator, overrides });
    bar?.stop();
    const m = update.manifest;
    const foldIn = m.training ? `fold-in with regParam ${m.training.regParam}${m.training.implicitPrefs ? `, implicit (alpha ${m.training.alpha})` : ''}${m.training.nonnegative ? ', nonnegative' : ''}` : 'no training parameters (no fold-in)';
    console.log(`imported ${saveDir}: ${m.numUsers} users x ${m.numItems} items, rank ${m.rank}, items ${m.itemEncoding}, ${foldIn} -> ${update.dir}`);
  });

program
  .command('synth')
  .description('write a seeded synthetic model (user ids 0..U-1, item ids 0..I-1) as a new feed update')
  .requiredOption('--users <U>', 'number of users', positiveInt)
  .requiredOption('--items <I>', 'number of items', positiveInt)
  .requiredOption('--rank <K>', 'factor rank', positiveInt)
  .option('--seed <S>', 'random seed', positiveInt, 1)
  .requiredOption('--feed <root>', 'feed root')
  .requiredOption('--name <model>', 'model name in the feed')
  .addOption(itemEncodingOption())
  .action(async (options: { users: number; items: number; rank: number; seed: number; feed: string; name: string; itemEncoding: ItemEncoding }) => {
    const { synthModel } = await import('../model-store/synth.js');
    const { publishBundle } = await import('../model-store/bundle-writer.js');
    const bar = progressBar('synth');
    bar.start(options.users + options.items);
    const model = synthModel({ ...options, onProgress: bar.rows });
    bar.stop();
    const source = `synth --users ${options.users} --items ${options.items} --rank ${options.rank} --seed ${options.seed}`;
    const update = await publishBundle(model, { feedRoot: options.feed, name: options.name, spark: null, source, itemEncoding: options.itemEncoding });
    console.log(`wrote ${options.users} users x ${options.items} items, rank ${options.rank}, items ${options.itemEncoding} -> ${update.dir}`);
  });

program
  .command('publish-onnx')
  .description('publish an ONNX graph (input "user" [1, rank], output "scores" [1, numItems]) as a new feed update')
  .argument('<model.onnx>', 'the graph file')
  .requiredOption('--feed <root>', 'feed root')
  .requiredOption('--name <model>', 'model name in the feed')
  .action(async (file: string, options: { feed: string; name: string }) => {
    const { openOnnxSession, publishOnnxBundle } = await import('../model-store/onnx-bundle.js');
    const bytes = await readFile(file);
    // Refuse a graph the server would refuse, before it reaches the feed.
    const { session, rank } = await openOnnxSession(bytes, file);
    await session.release();
    const update = await publishOnnxBundle(bytes, { feedRoot: options.feed, name: options.name, source: path.resolve(file) });
    console.log(`published ${file} (user rank ${rank ?? 'open'}) -> ${update.dir}`);
  });

program
  .command('bucket')
  .description('write user_id,bucket,variant for every user id, exactly as the server assigns them')
  .option('-c, --config <file>', 'config file holding the experiment')
  .option('--experiment <name>', 'experiment in the config (default: its default experiment)')
  .option('--salt <salt>', 'without --config: the salt')
  .option('--buckets <B>', 'without --config: number of buckets', '10000')
  .option('--hash <mode>', 'without --config: murmur3 or spark', 'murmur3')
  .option('--variants <list>', 'without --config: name:weight pairs, e.g. a:50,b:50')
  .option('--input <file>', 'CSV with a header, .parquet, or - for CSV on stdin', '-')
  .option('--column <name>', 'the column holding user ids', 'user_id')
  .option('--output <file>', 'CSV file, or - for stdout', '-')
  .action(async (options) => (await import('./bucket.js')).bucketCommand(options));

program
  .command('load-recs')
  .description("load Spark's recommendForAllUsers(n) output (parquet or JSON lines) into Redis or Cassandra for a variant")
  .requiredOption('--input <path>', 'a folder of parquet or JSON part files, or one file')
  .requiredOption('--to <store>', 'redis or cassandra, or with --config the name of a fallback')
  .requiredOption('--variant <name>', 'the variant these lists serve')
  .option('--ttl <seconds>', 'expire the lists after this many seconds')
  .option('-c, --config <file>', 'take the store settings from this config file')
  .option('--url <url>', 'redis: server URL (default redis://127.0.0.1:6379)')
  .option('--key-template <template>', 'redis: key of a list (default recserve:recs:{variant}:{userId})')
  .option('--contact-points <hosts>', 'cassandra: comma-separated host[:port] list')
  .option('--local-dc <dc>', 'cassandra: local data centre (default datacenter1)')
  .option('--keyspace <ks>', 'cassandra: keyspace (default recserve)')
  .option('--table <table>', 'cassandra: table (default recommendations)')
  .option('--consistency <level>', 'cassandra: consistency level (default localOne)')
  .action(async (options) => (await import('./load-recs.js')).loadRecsCommand(options));

program
  .command('users')
  .description("print a JSON array of user ids (or item ids) sampled from a model's newest update (for load tests)")
  .requiredOption('--feed <root>', 'feed root')
  .requiredOption('--name <model>', 'model name in the feed')
  .option('--sample <N>', 'how many ids (evenly spread over the model)', positiveInt, 1000)
  .option('--items', 'sample item ids instead of user ids')
  .action(async (options: { feed: string; name: string; sample: number; items?: boolean }) => {
    const { ModelStore } = await import('../model-store/store.js');
    const { createLogger } = await import('../logger.js');
    const { sparkSaveImporter } = await import('../spark/feed-saves.js');
    const store = new ModelStore([{ name: options.name, feedRoot: options.feed }], { logger: createLogger('silent'), verifyChecksums: false, rawUpdates: sparkSaveImporter() });
    const model = await store.refresh(options.name);
    if (model?.kind !== 'als') throw new RecserveError('feed_invalid', `${options.name} has no ALS update under ${options.feed}`);
    const ids = options.items ? model.itemIds : model.userIds;
    const count = Math.min(options.sample, ids.length);
    const step = ids.length / count;
    console.log(JSON.stringify(Array.from({ length: count }, (_, i) => String(ids[Math.floor(i * step)]))));
  });

program
  .command('feed')
  .description('feed maintenance')
  .command('prune')
  .description('delete complete updates older than the newest N, and abandoned incomplete folders')
  .requiredOption('--feed <root>', 'feed root')
  .requiredOption('--name <model>', 'model name in the feed')
  .requiredOption('--keep <N>', 'complete updates to keep', positiveInt)
  .option('--grace <seconds>', 'leave incomplete folders younger than this alone', positiveInt, 3600)
  .action(async (options: { feed: string; name: string; keep: number; grace: number }) => {
    const { pruneFeed } = await import('../model-store/prune.js');
    const result = await pruneFeed(options.feed, options.name, options.keep, options.grace * 1000);
    console.log(`kept ${result.kept.length} (${result.kept.join(', ') || 'none'}); deleted ${result.deleted.length} (${result.deleted.join(', ') || 'none'}); left ${result.leftAlone.length} incomplete younger than ${options.grace} s`);
  });

/** One line for the user, never a stack (RECSERVE_DEBUG=1 adds it, for bug reports). */
function describeFailure(err: unknown): string {
  if (isRecserveError(err)) return `${err.code}: ${err.message}`;
  const system = err as NodeJS.ErrnoException;
  if (system?.syscall && system.code) return `cannot ${system.syscall} ${system.path ?? ''}: ${system.code}`.replace('  ', ' ');
  return `unexpected error: ${(err as Error)?.message ?? String(err)} (RECSERVE_DEBUG=1 prints the stack)`;
}

program.parseAsync().catch((err: unknown) => {
  console.error(`recserve: ${describeFailure(err)}`);
  if (process.env.RECSERVE_DEBUG) console.error(err);
  process.exit(1);
});
