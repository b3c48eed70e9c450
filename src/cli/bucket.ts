import { createReadStream, createWriteStream, existsSync, statSync } from 'node:fs';
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse } from 'csv-parse';
import { stringify } from 'csv-stringify';
import { asyncBufferFromFile, parquetMetadataAsync } from 'hyparquet';
import { Value } from 'typebox/value';
import { loadConfigFile } from '../config/load.js';
import { ExperimentSchema } from '../config/schema.js';
import { RecserveError } from '../errors.js';
import { rowGroups } from '../parquet-groups.js';
import { firstViolation } from '../shared.js';
import { compileExperiment, assign, type Experiment, type ExperimentSpec } from '../variants/experiments.js';
import { progressBar } from './progress.js';

export interface BucketOptions {
  config?: string;
  experiment?: string;
  salt?: string;
  buckets?: string;
  hash?: string;
  variants?: string;
  input: string;
  column: string;
  output: string;
}

function usageError(message: string): RecserveError {
  return new RecserveError('invalid_request', `bucket: ${message}`);
}

function usage(message: string): never {
  throw usageError(message);
}

/** `a:50,b:50` -> variants; the recommender is irrelevant offline. */
function parseVariants(text: string): ExperimentSpec['variants'] {
  return text.split(',').map((part) => {
    const [name, weight] = part.split(':');
    if (!name || weight === undefined || weight.trim() === '' || Number.isNaN(Number(weight))) usage(`--variants wants name:weight pairs like a:50,b:50; got ${JSON.stringify(part)}`);
    return { name, weight: Number(weight), recommender: name };
  });
}

/** The experiment from a config file, or from flags checked against the same schema as the config. */
export function experimentFromOptions(options: BucketOptions): Experiment {
  if (options.config) {
    const config = loadConfigFile(options.config, {});
    const name = options.experiment ?? config.defaultExperiment;
    const found = config.experiments.find((e) => e.name === name);
    if (!found) usage(`experiment ${JSON.stringify(name)} is not in ${options.config} (has ${config.experiments.map((e) => e.name).join(', ')})`);
    return compileExperiment(found);
  }
  if (options.salt === undefined || options.variants === undefined) usage('give --config <file> [--experiment <name>], or --salt and --variants');
  const raw = Value.Default(ExperimentSchema, {
    name: options.experiment ?? 'cli',
    salt: options.salt,
    buckets: options.buckets === undefined ? 10_000 : Number(options.buckets),
    hash: options.hash ?? 'murmur3',
    variants: parseVariants(options.variants),
  }) as ExperimentSpec;
  const violation = firstViolation(ExperimentSchema, raw, 'experiment');
  if (violation) usage(`${violation.field} ${violation.detail}`);
  const names = raw.variants.map((v) => v.name);
  if (new Set(names).size !== names.length) usage('--variants has a duplicate variant name');
  return compileExperiment(raw as ExperimentSpec);
}

/** User ids from a CSV file (with a header naming `column`) or stdin: the streams to chain. */
function csvIds(input: string, column: string): [Readable, Transform, Transform] {
  const source = input === '-' ? process.stdin : createReadStream(input);
  if (input !== '-') {
    const bar = progressBar('bucket', 'bytes');
    bar.start(statSync(input).size);
    let read = 0;
    source.on('data', (chunk: Buffer | string) => bar.rows((read += chunk.length)));
    source.on('end', () => bar.stop());
  }
  let checked = false;
  let records = 0;
  const ids = new Transform({
    objectMode: true,
    transform(record: Record<string, string>, _enc, done) {
      if (!checked && !(column in record)) return done(usageError(`${input} has no column ${JSON.stringify(column)} (header: ${Object.keys(record).join(', ')})`));
      checked = true;
      records++;
      if (!record[column]) return done(usageError(`${input}: record ${records} has an empty ${column}`));
      done(null, record[column]);
    },
  });
  return [source, parse({ columns: true, bom: true, relax_column_count: true, skip_empty_lines: true }), ids];
}

/** User ids from a parquet file, one row group at a time. */
function parquetIds(input: string, column: string): [Readable] {
  return [Readable.from(
    (async function* () {
      const file = await asyncBufferFromFile(input);
      const metadata = await parquetMetadataAsync(file);
      if (!metadata.schema.some((s) => s.name === column)) usage(`${input} has no column ${JSON.stringify(column)}`);
      const bar = progressBar('bucket');
      bar.start(Number(metadata.num_rows));
      for await (const { rows, rowStart } of rowGroups(file, metadata, [column])) {
        for (const [i, row] of rows.entries()) {
          if (row[column] === null || row[column] === undefined || row[column] === '') usage(`${input}: row ${rowStart + i} has no ${column}`);
          yield String(row[column]);
        }
        bar.rows(rowStart + rows.length);
      }
      bar.stop();
    })(),
  )];
}

/** `recserve bucket`: writes user_id,bucket,variant for every input id, in constant memory. */
export async function bucketCommand(options: BucketOptions): Promise<void> {
  const experiment = experimentFromOptions(options);
  if (options.input !== '-' && !existsSync(options.input)) usage(`--input ${options.input} does not exist`);
  const ids = options.input.endsWith('.parquet') ? parquetIds(options.input, options.column) : csvIds(options.input, options.column);
  const toRow = new Transform({
    objectMode: true,
    transform(userId: string, _enc, done) {
      const { bucket, variant } = assign(experiment, userId);
      done(null, [userId, bucket, variant]);
    },
  });
  const out: Writable = options.output === '-' ? process.stdout : createWriteStream(options.output);
  await pipeline([...ids, toRow, stringify({ header: true, columns: ['user_id', 'bucket', 'variant'] }), out]);
}
