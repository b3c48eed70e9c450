import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread: maps each file (the same page-cache pages the loader maps, no copy) and hashes it.
const HASHER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { openSync, closeSync, fstatSync } = require('node:fs');
const mmap = require(workerData.mmapModule);
const digests = workerData.files.map((file) => {
  const fd = openSync(file, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return createHash('sha256').digest('hex');
    return createHash('sha256').update(mmap.map(size, mmap.PROT_READ, mmap.MAP_SHARED | mmap.MAP_POPULATE, fd, 0, mmap.MADV_SEQUENTIAL)).digest('hex');
  } finally {
    closeSync(fd);
  }
});
parentPort.postMessage(digests);
`;

/** Resolved here: an eval'd worker would resolve modules from the working directory instead. */
const MMAP_MODULE = createRequire(import.meta.url).resolve('@riaskov/mmap-io');

/**
 * The sha256 of each file, hex, computed on a worker thread so that the loading thread can validate the
 * contents meanwhile: a large bundle is ready in the longer of the two instead of their sum.
 */
export function sha256Files(files: string[]): Promise<string[]> {
  return new Promise((resolve, reject) => {
    // No inherited flags: the script is CommonJS whatever --input-type or loaders the process runs with.
    const worker = new Worker(HASHER, { eval: true, execArgv: [], workerData: { files, mmapModule: MMAP_MODULE } });
    worker.once('message', (digests: string[]) => resolve(digests));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the sha256 worker stopped (exit code ${code})`)));
  });
}
