import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Logger } from 'pino';

/**
 * Several worker processes serving one port (node:cluster). Every worker maps the same bundle files,
 * so the factors live once in the page cache; each follows the feed itself. The primary only forks,
 * relays admin actions to every worker, aggregates /metrics across workers and forwards signals.
 */

export interface AdminAction {
  action: 'reload' | 'pin' | 'unpin';
  name: string;
  version?: string;
}

type Message = { type: 'recserve:metrics'; id: number; text?: string } | { type: 'recserve:admin'; from?: number; action: AdminAction };

function isMessage(m: unknown): m is Message {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string' && (m as { type: string }).type.startsWith('recserve:');
}

/** Forks the workers and serves them until SIGTERM, which reaches every worker; resolves with the exit code. */
export function runPrimary(workers: number, logger: Logger): Promise<number> {
  const aggregator = new AggregatorRegistry();
  const fork = () => cluster.fork();
  for (let i = 0; i < workers; i++) fork();
  let stopping = false;
  cluster.on('message', (worker: Worker, message: unknown) => {
    if (!isMessage(message)) return;
    if (message.type === 'recserve:metrics') {
      aggregator.clusterMetrics().then(
        (text) => worker.send({ type: 'recserve:metrics', id: message.id, text }),
        (err: Error) => worker.send({ type: 'recserve:metrics', id: message.id, text: `# aggregation failed: ${err.message}\n` }),
      );
    } else {
      for (const other of Object.values(cluster.workers ?? {})) if (other && other.id !== worker.id) other.send(message);
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    logger.error({ worker: worker.process.pid, code, signal }, 'worker died; starting another');
    fork();
  });
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info({ signal, workers: Object.keys(cluster.workers ?? {}).length }, 'stopping workers');
      let failed = false;
      const alive = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
      let remaining = alive.length;
      if (remaining === 0) resolve(0);
      for (const worker of alive) {
        worker.once('exit', (code) => {
          failed ||= code !== 0;
          if (--remaining === 0) resolve(failed ? 1 : 0);
        });
        worker.process.kill(signal);
      }
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGTERM'));
  });
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
