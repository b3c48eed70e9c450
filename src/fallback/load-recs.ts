import { createReadStream, promises as fs, statSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { asyncBufferFromFile, parquetMetadataAsync, type FileMetaData } from 'hyparquet';
import { RecserveError } from '../errors.js';
import { rowGroups } from '../parquet-groups.js';
import type { CachedList, WritableSource } from './source.js';

const RECS = 'recommendations';
const RATING = 'rating';
const BATCH = 1000;

export interface LoadProgress {
  /** Total rows (parquet) or bytes (JSON lines), once known. */
  start(total: number, unit: 'rows' | 'bytes'): void;
  advance(done: number): void;
}

export interface LoadReport {
  users: number;
  badRows: number;
  /** The first few bad rows, with where they are and why. */
  examples: string[];
  userCol: string | null;
  itemCol: string | null;
  seconds: number;
}

interface RawRow {
  row: Record<string, unknown>;
  where: string;
  /** Why the line is no row at all (not JSON, not an object). */
  problem?: string;
}

/** Parquet parts or JSON-lines parts of a folder written by Spark, or one such file. */
async function inputFiles(input: string): Promise<{ files: string[]; format: 'parquet' | 'json' }> {
  const stat = await fs.stat(input).catch(() => {
    throw new RecserveError('invalid_request', `load-recs: ${input} does not exist`);
  });
  const files = stat.isDirectory() ? (await fs.readdir(input)).filter((n) => !n.startsWith('.') && !n.startsWith('_')).sort().map((n) => path.join(input, n)) : [input];
  const parquet = files.filter((f) => f.endsWith('.parquet'));
  if (parquet.length > 0) return { files: parquet, format: 'parquet' };
  const json = files.filter((f) => /\.(json|jsonl|ndjson)$/.test(f) || !stat.isDirectory());
  if (json.length === 0) throw new RecserveError('invalid_request', `load-recs: ${input} holds no .parquet or .json files`);
  return { files: json, format: 'json' };
}

async function* parquetRows(files: string[], progress?: LoadProgress): AsyncGenerator<RawRow> {
  const opened: { file: string; buffer: Awaited<ReturnType<typeof asyncBufferFromFile>>; metadata: FileMetaData }[] = [];
  for (const file of files) {
    try {
      const buffer = await asyncBufferFromFile(file);
      opened.push({ file, buffer, metadata: await parquetMetadataAsync(buffer) });
    } catch (err) {
      throw new RecserveError('corrupt_parquet', `${file}: truncated or corrupt parquet (${(err as Error).message})`);
    }
  }
  progress?.start(opened.reduce((sum, o) => sum + Number(o.metadata.num_rows), 0), 'rows');
  let done = 0;
  for (const { file, buffer, metadata } of opened) {
    for await (const { rows, rowStart } of rowGroups(buffer, metadata)) {
      for (const [i, row] of rows.entries()) yield { row, where: `${path.basename(file)} row ${rowStart + i}` };
      progress?.advance((done += rows.length));
    }
  }
}

async function* jsonRows(files: string[], progress?: LoadProgress): AsyncGenerator<RawRow> {
  progress?.start(files.reduce((sum, f) => sum + statSync(f).size, 0), 'bytes');
  let bytes = 0;
  for (const file of files) {
    let line = 0;
    for await (const text of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
      line++;
      bytes += Buffer.byteLength(text) + 1;
      if (line % 1000 === 0) progress?.advance(bytes);
      if (text.trim() === '') continue;
      let row: unknown;
      try {
        row = JSON.parse(text);
      } catch {
        row = undefined;
      }
      const where = `${path.basename(file)} line ${line}`;
      if (row && typeof row === 'object' && !Array.isArray(row)) yield { row: row as Record<string, unknown>, where };
      else yield { row: {}, where, problem: `${row === undefined ? 'not JSON' : 'not a JSON object'}: ${JSON.stringify(text.slice(0, 40))}${text.length > 40 ? '...' : ''}` };
    }
  }
  progress?.advance(bytes);
}

/** Spark names the user and item columns after the model's userCol and itemCol: take them from the first row. */
function inferNames(row: Record<string, unknown>): { userCol: string; itemCol: string | null } | null {
  const userCol = Object.keys(row).find((k) => k !== RECS);
  if (!userCol || !(RECS in row)) return null;
  const first = Array.isArray(row[RECS]) ? (row[RECS] as unknown[]).find((e) => e && typeof e === 'object') : undefined;
  const itemCol = first ? (Object.keys(first as object).find((k) => k !== RATING) ?? null) : null;
  return { userCol, itemCol };
}

function toList(row: Record<string, unknown>, userCol: string, itemCol: string, variant: string): CachedList | string {
  const user = row[userCol];
  if (typeof user !== 'number' && typeof user !== 'string') return `${userCol} is ${JSON.stringify(user) ?? 'missing'}`;
  const recs = row[RECS];
  if (!Array.isArray(recs)) return `${RECS} is ${JSON.stringify(recs) ?? 'missing'}`;
  if (recs.length === 0) return `${RECS} is empty`;
  const items = [];
  for (const [i, e] of recs.entries()) {
    const item = (e as Record<string, unknown> | null)?.[itemCol];
    const rating = (e as Record<string, unknown> | null)?.[RATING];
    if (typeof item !== 'number' && typeof item !== 'string') return `${RECS}[${i}].${itemCol} is ${JSON.stringify(item) ?? 'missing'}`;
    if (typeof rating !== 'number' || !Number.isFinite(rating)) return `${RECS}[${i}].${RATING} is ${JSON.stringify(rating) ?? 'missing'}`;
    items.push({ itemId: String(item), score: rating });
  }
  return { variant, userId: String(user), items };
}

/**
 * Streams Spark's `recommendForAllUsers(n)` output into a store in batches of 1000 (a Redis
 * pipeline, or Cassandra executeConcurrent with a prepared statement). Memory holds one parquet row
 * group or one batch at a time. Bad rows are counted and the first ones reported, never silently dropped.
 */
export async function loadRecs(input: string, target: WritableSource, variant: string, ttlSeconds: number | undefined, progress?: LoadProgress): Promise<LoadReport> {
  const started = performance.now();
  const { files, format } = await inputFiles(input);
  const rows = format === 'parquet' ? parquetRows(files, progress) : jsonRows(files, progress);
  const report: LoadReport = { users: 0, badRows: 0, examples: [], userCol: null, itemCol: null, seconds: 0 };
  let batch: CachedList[] = [];
  const flush = async () => {
    if (batch.length === 0) return;
    await target.write(batch, ttlSeconds);
    report.users += batch.length;
    batch = [];
  };
  for await (const { row, where, problem } of rows) {
    if (!problem && (report.userCol === null || report.itemCol === null)) {
      const names = inferNames(row);
      if (names) [report.userCol, report.itemCol] = [names.userCol, names.itemCol ?? report.itemCol];
    }
    const list = problem ?? (report.userCol && report.itemCol ? toList(row, report.userCol, report.itemCol, variant) : `cannot tell the user and item columns from ${JSON.stringify(row).slice(0, 80)}`);
    if (typeof list === 'string') {
      report.badRows++;
      if (report.examples.length < 5) report.examples.push(`${where}: ${list}`);
      continue;
    }
    batch.push(list);
    if (batch.length >= BATCH) await flush();
  }
  await flush();
  report.seconds = (performance.now() - started) / 1000;
  return report;
}
