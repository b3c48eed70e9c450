import type { Logger } from 'pino';
import { RecserveError } from '../errors.js';
import type { LoadOptions } from './bundle-loader.js';
import { loadUpdate } from './load-update.js';
import { listUpdates } from './feed.js';
import type { LoadedModel } from './snapshot.js';

export interface ModelSource {
  name: string;
  feedRoot: string;
}

export interface ModelStatus {
  name: string;
  kind: 'als' | 'onnx' | null;
  loaded: boolean;
  version: string | null;
  rank: number | null;
  numUsers: number | null;
  numItems: number | null;
  loadedAt: string | null;
  lastError: string | null;
}

export interface ModelStoreOptions extends LoadOptions {
  logger: Logger;
  /** Runs on a fully loaded snapshot before it is swapped in (e.g. to warm a scoring session). */
  prepare?: (snapshot: LoadedModel) => Promise<void>;
}

/**
 * Holds the serving snapshot of each configured model. A snapshot is loaded and validated in full
 * before one assignment swaps it in; readers take the snapshot once per request.
 */
export class ModelStore {
  private readonly snapshots = new Map<string, LoadedModel>();
  private readonly errors = new Map<string, string>();

  constructor(
    readonly sources: readonly ModelSource[],
    private readonly options: ModelStoreOptions,
  ) {}

  get names(): string[] {
    return this.sources.map((s) => s.name);
  }

  has(name: string): boolean {
    return this.sources.some((s) => s.name === name);
  }

  get(name: string): LoadedModel | undefined {
    return this.snapshots.get(name);
  }

  /** True while every configured model has a snapshot. */
  get ready(): boolean {
    return this.sources.every((s) => this.snapshots.has(s.name));
  }

  /** Loads the newest complete update of every model; one model's failure does not stop the others. */
  async loadAll(): Promise<void> {
    await Promise.all(this.sources.map((s) => this.loadNewest(s).catch(() => undefined)));
  }

  /**
   * Loads the newest complete update of one model that passes validation, newest first, and swaps
   * it in. Updates that fail are logged and skipped; a model already serving is never replaced
   * by anything but a newer good update.
   */
  async loadNewest(source: ModelSource): Promise<LoadedModel> {
    const { name, feedRoot } = source;
    const current = this.snapshots.get(name);
    const candidates = (await listUpdates(feedRoot, name)).filter((u) => u.complete && (!current || u.id > current.version)).reverse();
    for (const update of candidates) {
      try {
        const snapshot = await loadUpdate(name, update.id, update.dir, this.options);
        await this.options.prepare?.(snapshot);
        this.snapshots.set(name, snapshot);
        // A newer update's rejection stays visible while an older one serves.
        if (update === candidates[0]) this.errors.delete(name);
        this.options.logger.info({ model: name, kind: snapshot.kind, version: update.id, rank: snapshot.rank }, 'model loaded');
        return snapshot;
      } catch (err) {
        const message = (err as Error).message;
        this.errors.set(name, message);
        this.options.logger.error({ model: name, version: update.id, err: message }, 'model update rejected');
      }
    }
    if (current) return current;
    const reason = candidates.length === 0 ? `no complete update under ${feedRoot}/${name}/v1` : this.errors.get(name);
    this.errors.set(name, reason ?? 'no loadable update');
    this.options.logger.error({ model: name, feedRoot, err: this.errors.get(name) }, 'model not loaded');
    throw new RecserveError('feed_invalid', `model ${name}: ${this.errors.get(name)}`);
  }

  status(): ModelStatus[] {
    return this.sources.map(({ name }) => {
      const s = this.snapshots.get(name);
      const als = s?.kind === 'als' ? s : undefined;
      return {
        name,
        kind: s?.kind ?? null,
        loaded: s !== undefined,
        version: s?.version ?? null,
        rank: s?.rank ?? null,
        numUsers: als?.numUsers ?? null,
        numItems: als?.numItems ?? null,
        loadedAt: s?.loadedAt.toISOString() ?? null,
        lastError: this.errors.get(name) ?? null,
      };
    });
  }
}
