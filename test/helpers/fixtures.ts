import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { pino } from 'pino';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const FIXTURES_DIR = process.env.RECSERVE_FIXTURES ?? path.resolve(REPO_ROOT, '../shared/fixtures/spark-als');

export function fixtureNames(): string[] {
  return readdirSync(FIXTURES_DIR, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

export function fixturePath(name: string): string {
  return path.join(FIXTURES_DIR, name);
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
