import { watch, type FSWatcher } from 'node:fs';
import type { Logger } from 'pino';
import { modelFeedDir } from './feed.js';
import type { ModelStore } from './store.js';

export interface FeedWatcherOptions {
  /** Poll every model's feed this often; network volumes deliver no file events. 0 disables polling. */
  pollIntervalMs: number;
  /** Also react to file events at once (debounced). */
  watchEvents: boolean;
  logger: Logger;
}

const DEBOUNCE_MS = 50;

/**
 * Follows each model's feed folder: file events (recursive, so a `_SUCCESS` written inside a new
 * update folder is seen) trigger a refresh at once, and a periodic poll catches whatever events miss.
 */
export class FeedWatcher {
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly pending = new Map<string, NodeJS.Timeout>();
  private poll: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly store: ModelStore,
    private readonly options: FeedWatcherOptions,
  ) {}

  start(): void {
    if (this.options.pollIntervalMs > 0) {
      this.poll = setInterval(() => {
        for (const name of this.store.names) {
          this.ensureWatching(name);
          this.refresh(name);
        }
      }, this.options.pollIntervalMs);
      this.poll.unref();
    }
    for (const name of this.store.names) this.ensureWatching(name);
  }

  /** Watches a model's feed folder once it exists (it may be created after start-up). */
  private ensureWatching(name: string): void {
    if (!this.options.watchEvents || this.watchers.has(name) || this.stopped) return;
    const source = this.store.sources.find((s) => s.name === name)!;
    try {
      const watcher = watch(modelFeedDir(source.feedRoot, name), { recursive: true, persistent: false }, () => this.schedule(name));
      watcher.on('error', () => {
        watcher.close();
        this.watchers.delete(name);
      });
      this.watchers.set(name, watcher);
    } catch {
      // No folder yet: the poll tries again.
    }
  }

  private schedule(name: string): void {
    if (this.pending.has(name) || this.stopped) return;
    this.pending.set(
      name,
      setTimeout(() => {
        this.pending.delete(name);
        this.refresh(name);
      }, DEBOUNCE_MS),
    );
  }

  private refresh(name: string): void {
    // Failures are logged and remembered by the store; the watcher only keeps asking.
    this.store.refresh(name).catch(() => undefined);
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.poll);
    for (const timer of this.pending.values()) clearTimeout(timer);
    for (const watcher of this.watchers.values()) watcher.close();
    this.watchers.clear();
  }
}
