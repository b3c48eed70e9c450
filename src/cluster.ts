import cluster, { type Worker } from 'node:cluster';
import { createServer, type Socket } from 'node:net';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from 'pino';
import type { AdminAction } from './model-store/admin-actions.js';
import type { LineSink } from './recommender/exposure-log.js';

/**
 * Several worker processes serving one port (node:cluster). Every worker maps the same bundle files,
 * so the factors live once in the page cache; each follows the feed itself. The primary forks, holds the
 * listening socket and hands each connection to a ready worker in turn, relays admin actions to every
 * worker, aggregates /metrics across workers, writes every worker's exposure lines to the one log, and
 * at SIGTERM stops accepting before any worker stops serving.
 */


type Message =
  | { type: 'recserve:ready' }
  | { type: 'recserve:loaded' }
  | { type: 'recserve:connection' }
  | { type: 'recserve:stopped' }
  | { type: 'recserve:exposures-flushed' }
  | { type: 'recserve:metrics'; id: number; text?: string }
  | { type: 'recserve:admin'; from?: number; action: AdminAction }
  | { type: 'recserve:exposures'; text: string };

function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('recserve:');
}

export interface PrimaryOptions {
  host: string;
  port: number;
  /** After SIGTERM, how long the primary keeps accepting while workers' /readyz answers 503. */
  drainDelayMs: number;
  /** Where every worker's exposure lines go, if the log is on. */
  exposures?: LineSink;
}

/**
 * Forks the workers and serves them until SIGTERM; resolves with the exit code once every worker has
 * exited and their last exposure lines are written. The primary listens once a worker is ready. At SIGTERM
 * the workers turn /readyz to 503, the primary stops accepting after `drainDelayMs` and tells them so
 * (after every connection it handed over), and each then answers what it has accepted and exits.
 */
export function runPrimary(workers: number, logger: Logger, { host, port, drainDelayMs, exposures }: PrimaryOptions): Promise<number> {
  const aggregator = new AggregatorRegistry();
  // Workers that take connections, and those among them whose models have loaded: once one has, only those
  // get connections, so a client that saw /readyz 200 is not sent to a worker still loading.
  const ready: Worker[] = [];
  const loaded: Worker[] = [];
  // Workers that ever said ready: one stopped by our signal before that had accepted nothing, so its death
  // by the signal (it may not have its handler yet) is a clean stop, not a failure.
  const everReady = new WeakSet<Worker>();
  let turn = 0;
  const listener = createServer({ pauseOnConnect: true }, (socket: Socket) => {
    const pool = loaded.length > 0 ? loaded : ready;
    const worker = pool[turn++ % Math.max(pool.length, 1)];
    if (!worker) return socket.destroy();
    worker.send({ type: 'recserve:connection' } satisfies Message, socket, (err: Error | null) => err && socket.destroy());
  });
  listener.on('error', (err) => {
    logger.fatal({ err: err.message }, 'cannot listen');
    process.exit(1);
  });
  // A message to a worker that has just died (at shutdown, say) fails with EPIPE: nothing to do about it,
  // and unhandled it would crash the primary.
  const fork = () => cluster.fork().on('error', (err: Error) => logger.debug({ err: err.message }, 'a message to a worker was not delivered'));
  let stopping = false;
  // The signal handlers come before the first fork: a SIGTERM that arrives while the workers start must
  // stop them, not kill the primary.
  const finished = new Promise<number>((resolve) => {
    const stop = async (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      logger.info({ signal, workers: alive.length, drainDelayMs }, 'stopping: workers answer /readyz 503, then no new connections');
      let failed = false;
      let remaining = alive.length;
      if (remaining === 0) resolve(0);
      for (const worker of alive) {
        worker.once('exit', (code: number | null, killedBy: NodeJS.Signals | null) => {
          failed ||= code !== 0 && !(killedBy === signal && !everReady.has(worker));
          if (--remaining === 0) resolve(failed ? 1 : 0);
        });
        worker.process.kill(signal);
      }
      await new Promise((wait) => setTimeout(wait, drainDelayMs));
      listener.close();
      // Sent after every connection handed over: a worker that reads it has all it will ever get.
      for (const worker of alive) if (worker.isConnected()) worker.send({ type: 'recserve:stopped' } satisfies Message);
    };
    process.once('SIGTERM', () => void stop('SIGTERM'));
    process.once('SIGINT', () => void stop('SIGTERM'));
  });
  // Batches are written in the order they arrive.
  let writing = Promise.resolve();
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === 'recserve:ready') {
      ready.push(worker);
      everReady.add(worker);
      if (!listener.listening && !stopping) {
        listener.listen(port, host, () => {
          const address = listener.address() as { port: number };
          logger.info({ workers }, `Server listening at http://${host.includes(':') ? `[${host}]` : host}:${address.port}`);
        });
      }
    } else if (message.type === 'recserve:loaded') {
      loaded.push(worker);
    } else if (message.type === 'recserve:exposures') {
      if (!exposures) return;
      writing = writing.then(() => exposures.write(message.text)).catch((err: Error) => logger.error({ err: err.message }, 'exposure lines could not be written'));
    } else if (message.type === 'recserve:exposures-flushed') {
      // A stopping worker waits for this: its lines are written before it exits.
      void writing.then(() => worker.isConnected() && worker.send({ type: 'recserve:exposures-flushed' } satisfies Message));
    } else if (message.type === 'recserve:metrics') {
      aggregator.clusterMetrics().then(
        (text) => worker.send({ type: 'recserve:metrics', id: message.id, text }),
        (err: Error) => worker.send({ type: 'recserve:metrics', id: message.id, text: `# aggregation failed: ${err.message}\n` }),
      );
    } else if (message.type === 'recserve:admin') {
      for (const other of Object.values(cluster.workers ?? {})) if (other && other.id !== worker.id) other.send(message);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    for (const list of [ready, loaded]) {
      const at = list.indexOf(worker);
      if (at >= 0) list.splice(at, 1);
    }
    if (stopping) return;
    logger.error({ worker: worker.process.pid, code, signal }, 'worker died; starting another');
    fork();
  });
  logger.info({ workers }, 'starting workers');
  for (let i = 0; i < workers; i++) fork();
  return finished.then(async (code) => {
    await writing;
    await exposures?.close();
    return code;
  });
}

/**
 * Worker side of the connection hand-over: takes each connection the primary accepted, tells the primary
 * it is ready and, once `loaded` settles, that its models are in; resolves `stopped` once the primary has
 * stopped accepting (or is gone).
 */
export function joinPrimary(accept: (socket: Socket) => void, loaded: Promise<void>): { stopped: Promise<void> } {
  let markStopped: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => (markStopped = resolve));
  process.on('message', (message: unknown, handle: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === 'recserve:connection' && handle) accept(handle as Socket);
    else if (message.type === 'recserve:stopped') markStopped();
  });
  process.once('disconnect', () => markStopped());
  process.send!({ type: 'recserve:ready' } satisfies Message);
  const tell = () => void (process.connected && process.send!({ type: 'recserve:loaded' } satisfies Message));
  loaded.then(tell, tell);
  return { stopped };
}

/** How long a stopping worker waits for the primary to confirm its last exposure lines are written. */
const FLUSH_ACK_MS = 5_000;

/**
 * A worker's exposure lines go to the primary, which writes them (one file, one writer, rotation
 * included). Closing waits until the primary has written everything this worker sent.
 */
export function primaryExposureSink(): LineSink {
  return {
    write: (text) => new Promise((resolve, reject) => process.send!({ type: 'recserve:exposures', text } satisfies Message, undefined, {}, (err) => (err ? reject(err) : resolve()))),
    close: () =>
      new Promise<void>((resolve) => {
        if (!process.connected) return resolve();
        const done = () => {
          clearTimeout(timer);
          process.off('message', onMessage);
          resolve();
        };
        const onMessage = (message: unknown) => isMessage(message) && message.type === 'recserve:exposures-flushed' && done();
        const timer = setTimeout(done, FLUSH_ACK_MS);
        process.on('message', onMessage);
        process.send!({ type: 'recserve:exposures-flushed' } satisfies Message);
      }),
  };
}

/** Worker side: metrics of all workers through the primary, and admin actions shared with the others. */
export class WorkerLink {
  private nextId = 0;
  private readonly pending = new Map<number, (text: string) => void>();

  constructor(registry: Registry, onAdmin: (action: AdminAction) => void) {
    AggregatorRegistry.setRegistries([registry]);
    // Constructing one installs prom-client's worker-side listener that answers the primary.
    new AggregatorRegistry();
    process.on('message', (message: unknown) => {
      if (!isMessage(message)) return;
      if (message.type === 'recserve:metrics' && message.text !== undefined) {
        this.pending.get(message.id)?.(message.text);
        this.pending.delete(message.id);
      } else if (message.type === 'recserve:admin') {
        onAdmin(message.action);
      }
    });
  }

  static get active(): boolean {
    return cluster.isWorker;
  }

  clusterMetrics(): Promise<string> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      process.send!({ type: 'recserve:metrics', id });
    });
  }

  broadcast(action: AdminAction): void {
    process.send!({ type: 'recserve:admin', action });
  }
}
