import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread: reads each file in 4 MiB chunks (from the page cache when warm) into sha256.
const HASHER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
(async () => {
  const digests = [];
  for (const file of workerData.files) {
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk);
    digests.push(hash.digest('hex'));
  }
  parentPort.postMessage(digests);
})();
`;

/** From this many bytes in all, hashing moves to a worker thread: below it, starting the thread costs more than it frees. */
export const OFF_THREAD_HASH_BYTES = 64 * 2 ** 20;

/**
 * The sha256 of each file, hex. Large bundles are hashed on a worker thread so that the loading thread
 * can validate the contents meanwhile, and a hot reload blocks the event loop only for that; small ones
 * are hashed here from their mappings.
 */
export function sha256Files(files: { file: string; data: Uint8Array }[], offThreadBytes = OFF_THREAD_HASH_BYTES): Promise<string[]> {
  const total = files.reduce((sum, f) => sum + f.data.byteLength, 0);
  if (total < offThreadBytes) return Promise.resolve(files.map((f) => createHash('sha256').update(f.data).digest('hex')));
  return new Promise((resolve, reject) => {
    // No inherited flags: the script is CommonJS whatever --input-type or loaders the process runs with.
    const worker = new Worker(HASHER, { eval: true, execArgv: [], workerData: { files: files.map((f) => f.file) } });
    worker.once('message', (digests: string[]) => resolve(digests));
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the sha256 worker stopped (exit code ${code})`)));
  });
}
