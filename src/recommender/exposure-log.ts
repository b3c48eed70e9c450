import { dirname, basename, extname } from 'node:path';
import murmurhash from 'murmurhash';
import { createStream, type RotatingFileStream } from 'rotating-file-stream';

/** One served assignment, as analysts read it (docs/exposure-log.md). */
export interface Exposure {
  experiment: string;
  variant: string;
  /** Null, as the user id, for an anonymous request. */
  bucket: number | null;
  userId: string | null;
  source: string;
  modelVersion: string | null;
}

export interface ExposureLog {
  write(exposure: Exposure): void;
  /** Writes what is buffered and closes the sink. */
  close(): Promise<void>;
}

/** Where batches of whole lines go: a (rotated) file, stdout, or a cluster's primary process. */
export interface LineSink {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

export interface RotateOptions {
  /** e.g. "100M": rotate when the file reaches this size. */
  size?: string;
  /** e.g. "1d", "6h": rotate at each such boundary. */
  interval?: string;
  /** How many rotated files to keep (oldest removed first). */
  maxFiles?: number;
}

export interface ExposureLogOptions {
  sampleRate: number;
  /** Buffered lines are written at least this often (and at close). */
  flushIntervalMs: number;
  /** Told when a batch could not be written (its lines are lost; the service goes on). */
  onError?: (err: Error) => void;
}

/** Flushes when this much is buffered, even before the interval. */
const FLUSH_BYTES = 64 * 1024;

/**
 * One JSON line per served assignment. A request pays for a string append; the buffer goes to the sink
 * every `flushIntervalMs` and whenever it passes 64 KiB, so a crash loses at most one interval. Sampling
 * keeps or drops whole users (by a hash of experiment and user id), so an analyst sees every exposure of a
 * sampled user.
 */
export function openExposureLog(sink: LineSink, { sampleRate, flushIntervalMs, onError }: ExposureLogOptions): ExposureLog {
  const threshold = sampleRate * 2 ** 32;
  let buffered: string[] = [];
  let bytes = 0;
  let writing = Promise.resolve();
  const flush = () => {
    if (buffered.length === 0) return writing;
    const text = buffered.join('');
    buffered = [];
    bytes = 0;
    // Batches stay in order: each waits for the one before it.
    writing = writing.then(() => sink.write(text)).catch((err: Error) => onError?.(err));
    return writing;
  };
  const timer = setInterval(flush, flushIntervalMs);
  timer.unref();
  return {
    write(e) {
      if (sampleRate < 1 && murmurhash.v3(`${e.experiment}:${e.userId}`, 0x5eed) >= threshold) return;
      const line = JSON.stringify({ time: new Date().toISOString(), ...e }) + '\n';
      buffered.push(line);
      bytes += line.length;
      if (bytes >= FLUSH_BYTES) void flush();
    },
    close: async () => {
      clearInterval(timer);
      await flush();
      await sink.close();
    },
  };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** exposures.jsonl -> exposures.20261129-1905.1.jsonl: the rotation's start (UTC) and its index within it. */
function rotatedNames(file: string) {
  const ext = extname(file);
  const stem = basename(file, ext);
  return (time: number | Date | null, index?: number) => {
    if (!time) return basename(file);
    const t = new Date(time);
    const stamp = `${t.getUTCFullYear()}${pad(t.getUTCMonth() + 1)}${pad(t.getUTCDate())}-${pad(t.getUTCHours())}${pad(t.getUTCMinutes())}${pad(t.getUTCSeconds())}`;
    return `${stem}.${stamp}.${index ?? 1}${ext}`;
  };
}

/** A file appended to (folders created), rotated by size and/or time with rotating-file-stream; or stdout. */
export function exposureFileSink(destination: string, rotate: RotateOptions = {}): LineSink {
  if (destination === 'stdout') {
    return {
      write: (text) => new Promise((resolve, reject) => process.stdout.write(text, (err) => (err ? reject(err) : resolve()))),
      close: async () => undefined,
    };
  }
  // rotating-file-stream refuses options set to undefined: pass only those given.
  const options = Object.fromEntries(Object.entries({ path: dirname(destination), ...rotate }).filter(([, v]) => v !== undefined));
  const stream: RotatingFileStream = createStream(rotatedNames(destination), options);
  // An unwritable file must not crash the service: the lines are lost and the error is reported once per batch.
  let lastError: Error | undefined;
  stream.on('error', (err) => (lastError = err));
  return {
    write: (text) =>
      new Promise((resolve, reject) =>
        stream.write(text, (err) => {
          if (err ?? lastError) reject(err ?? lastError);
          else resolve();
        }),
      ),
    close: () => new Promise((resolve) => (stream.closed ? resolve() : stream.end(() => resolve()))),
  };
}
