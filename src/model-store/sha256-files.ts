import { createHash } from 'node:crypto';
import { statSync } from 'node:fs';
import { Worker } from 'node:worker_threads';

// Runs in a worker thread: reads one file in 4 MiB chunks (from the page cache when warm) into sha256.
const HASHER = `
const { parentPort, workerData } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const { createReadStream } = require('node:fs');
(async () => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(workerData.file, { highWaterMark: 4 * 1024 * 1024 })) hash.update(chunk);
  parentPort.postMessage(hash.digest('hex'));
})();
`;

/** Files from this size are hashed on a worker thread each: below it, starting the thread costs more than it frees. */
export const OFF_THREAD_HASH_BYTES = 64 * 2 ** 20;

function hashOnWorker(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    // No inherited flags: the script is CommonJS whatever --input-type or loaders the process runs with.
    const worker = new Worker(HASHER, { eval: true, execArgv: [], workerData: { file } });
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`the sha256 worker stopped (exit code ${code})`)));
  });
}

/** The same file only while it keeps its inode, size and modification time. */
function identity(file: string): { key: string; size: number } | null {
  try {
    const s = statSync(file);
    return { key: `${file}\0${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}`, size: s.size };
  } catch {
    return null;
  }
}

/** Hashes started ahead of a load (see prefetchDigests), by file identity; each is taken once. */
const prefetched = new Map<string, Promise<string>>();

/**
 * Starts hashing files of `minBytes` or more on worker threads before anyone asks, so that a load which
 * comes later (a server importing its HTTP stack meanwhile) finds the digests done or under way. Best
 * effort: a file that changes in between has another identity, and its load hashes it anew. Returns the
 * files it started on, and a promise settled when their hashing is.
 */
export function prefetchDigests(files: string[], { keepMs = 60_000, minBytes = OFF_THREAD_HASH_BYTES } = {}): { started: string[]; done: Promise<void> } {
  const started: { file: string; digest: Promise<string> }[] = [];
  for (const file of files) {
    const id = identity(file);
    // Small files are hashed in line at load, faster than a thread starts.
    if (!id || id.size < minBytes || prefetched.has(id.key)) continue;
    const digest = hashOnWorker(file);
    digest.catch(() => {}); // a failure is the load's to report, when it hashes the file itself
    prefetched.set(id.key, digest);
    setTimeout(() => prefetched.delete(id.key), keepMs).unref();
    started.push({ file, digest });
  }
  return { started: started.map((s) => s.file), done: Promise.allSettled(started.map((s) => s.digest)).then(() => undefined) };
}

/**
 * The sha256 of each file, hex. Large files are hashed on a worker thread each (in parallel, and while
 * the loading thread validates the contents, so a hot reload blocks the event loop only for that); small
 * ones here from their mappings; prefetched ones are awaited.
 */
export function sha256Files(files: { file: string; data: Uint8Array }[], offThreadBytes = OFF_THREAD_HASH_BYTES): Promise<string[]> {
  return Promise.all(
    files.map(({ file, data }) => {
      const id = identity(file);
      const early = id ? prefetched.get(id.key) : undefined;
      if (early) {
        prefetched.delete(id!.key);
        return early.catch(() => hashOnWorker(file));
      }
      return data.byteLength >= offThreadBytes ? hashOnWorker(file) : createHash('sha256').update(data).digest('hex');
    }),
  );
}
