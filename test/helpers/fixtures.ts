import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { pino } from 'pino';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
/** Small real Spark saves in the repository (scripts/make-spark-fixtures.py wrote them with pyspark). */
export const REPO_FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures', 'spark-als');
/** More real saves from elsewhere, when present: RECSERVE_FIXTURES, or ../shared/fixtures/spark-als beside the clone. */
export const EXTRA_FIXTURES = process.env.RECSERVE_FIXTURES ?? path.resolve(REPO_ROOT, '../shared/fixtures/spark-als');

/** Rank 10, 300 users x 500 items, positive ids. */
export const EXPLICIT_FIXTURE = 'explicit-spark3.5.7-rank10';
/** Rank 3, 5 users x 2,000 items with hashed ids over the whole int32 range, many exact zeros. */
export const HASHED_FIXTURE = 'hashed-spark3.5.7-rank3';
/** The 20 MB one (43,331 items, rank 15): only among the extra fixtures. */
export const LARGE_FIXTURE = 'mllatest-spark2.3.0-rank15';
/** The quick suite checks every this-many-th user of the large fixture (the integration suite checks all). */
export const LARGE_FIXTURE_SAMPLE = 20;

function saveFolders(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name);
}

/** Every real save available: the repository's, then the extra ones present on this machine. */
export function fixtureNames(): string[] {
  return [...new Set([...saveFolders(REPO_FIXTURES), ...saveFolders(EXTRA_FIXTURES)])].sort();
}

export function fixturePath(name: string): string {
  const own = path.join(REPO_FIXTURES, name);
  return existsSync(own) ? own : path.join(EXTRA_FIXTURES, name);
}

/**
 * An extra fixture's path, or a reason to skip (shown by the test runner) when this machine lacks it. Under CI,
 * which runs beside ../shared, a missing fixture throws instead: CI never skips.
 */
export function optionalFixture(name: string): { path: string } | { skip: string } {
  const found = fixturePath(name);
  if (existsSync(found)) return { path: found };
  const missing = `fixture ${name} is not present (put it under ${EXTRA_FIXTURES} or set RECSERVE_FIXTURES)`;
  if (process.env.CI) throw new Error(`${missing}; CI must have ../shared beside the clone`);
  return { skip: missing };
}

export const silentLogger = pino({ level: 'silent' });

/** A fresh temporary folder, removed when the test (or suite) that asked for it ends. */
export function tempDir(t: { after(fn: () => void): void }, prefix = 'recserve-test-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Spark's factors read straight from the parquet files with hyparquet, independent of the importer. */
export async function readSparkFactors(saveDir: string, folder: 'userFactors' | 'itemFactors'): Promise<Map<number, Float32Array>> {
  const dir = path.join(saveDir, folder);
  const out = new Map<number, Float32Array>();
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.parquet') && !n.startsWith('.'))) {
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(path.join(dir, name)) });
    for (const row of rows) out.set(row.id as number, Float32Array.from(row.features as number[]));
  }
  return out;
}

/** Spark's prediction: a dot product accumulated in float32. */
export function float32Dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let k = 0; k < a.length; k++) sum = Math.fround(sum + Math.fround(a[k]! * b[k]!));
  return sum;
}

/** How far two float32 summation orders of the same dot product may drift apart. */
export function dotTolerance(a: Float32Array, b: Float32Array): number {
  let magnitude = 0;
  for (let k = 0; k < a.length; k++) magnitude += Math.abs(a[k]! * b[k]!);
  return 4 * a.length * 2 ** -24 * magnitude + 1e-30;
}
