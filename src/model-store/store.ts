import type { Logger } from 'pino';
import { isRecserveError, RecserveError } from '../errors.js';
import type { LoadOptions } from './bundle-loader.js';
import { listUpdates, type FeedUpdate } from './feed.js';
import { loadUpdate, type RawUpdateImporter } from './load-update.js';
import type { LoadedModel } from './snapshot.js';
import type { ModelAdminStatus, ModelStatus, ScoringStatus } from './status.js';

export interface ModelSource {
  name: string;
  feedRoot: string;
  /** Serve this update and do not follow the feed. */
  pin?: string;
}

export type LoadResult = 'loaded' | 'rejected';

export interface ModelStoreOptions extends LoadOptions {
  logger: Logger;
  /** Runs on a fully loaded snapshot before it is swapped in (to choose and warm its scoring); what it says of the scoring shows in the status. */
  prepare?: (snapshot: LoadedModel) => Promise<ScoringStatus | null>;
  /** Told of every load attempt. */
  onLoad?: (model: string, result: LoadResult, snapshot?: LoadedModel) => void;
  /** Turns raw updates found in a feed (Spark saves) into bundles; without it only bundles load. */
  rawUpdates?: RawUpdateImporter;
}

interface Slot {
  source: ModelSource;
  serving?: LoadedModel;
  scoring: ScoringStatus | null;
  pinned: string | null;
  rejected: Map<string, string>;
  lastError: string | null;
  /** Loads of one model run one at a time, in order. */
  queue: Promise<unknown>;
}

/**
 * Holds the serving snapshot of each configured model. An update is loaded and validated in full
 * before one assignment swaps it in; requests read the snapshot once, so a request in flight finishes
 * on the snapshot it started with, and the old mapping is released when nothing references it.
 * Versions only go up on their own: a refresh considers updates newer than the one serving, never
 * retries a rejected one, and only an operator's pin goes elsewhere.
 */
export class ModelStore {
  private readonly slots = new Map<string, Slot>();

  constructor(
    sources: readonly ModelSource[],
    private readonly options: ModelStoreOptions,
  ) {
    for (const source of sources) this.slots.set(source.name, { source, scoring: null, pinned: source.pin ?? null, rejected: new Map(), lastError: null, queue: Promise.resolve() });
  }

  get sources(): ModelSource[] {
    return [...this.slots.values()].map((s) => s.source);
  }

  get names(): string[] {
    return [...this.slots.keys()];
  }

  has(name: string): boolean {
    return this.slots.has(name);
  }

  get(name: string): LoadedModel | undefined {
    return this.slots.get(name)?.serving;
  }

  /** True while every configured model has a snapshot. */
  get ready(): boolean {
    return [...this.slots.values()].every((s) => s.serving !== undefined);
  }

  private slot(name: string): Slot {
    const slot = this.slots.get(name);
    if (!slot) throw new RecserveError('unknown_model', `model ${name} is not configured`);
    return slot;
  }

  private serialized<T>(slot: Slot, task: () => Promise<T>): Promise<T> {
    const run = slot.queue.then(task, task);
    slot.queue = run.catch(() => undefined);
    return run;
  }

  /** Loads every model; one model's failure does not stop the others. */
  async loadAll(): Promise<void> {
    await Promise.all(this.names.map((name) => this.refresh(name).catch(() => undefined)));
  }

  /**
   * Brings a model up to date with its feed: its pinned update, or else the newest complete update
   * newer than the one serving that loads and validates, tried newest first. Resolves with what serves.
   */
  refresh(name: string): Promise<LoadedModel | undefined> {
    const slot = this.slot(name);
    return this.serialized(slot, async () => {
      const updates = (await listUpdates(slot.source.feedRoot, name)).filter((u) => u.complete);
      if (slot.pinned !== null) {
        if (slot.serving?.version === slot.pinned) return slot.serving;
        const pinned = updates.find((u) => u.id === slot.pinned);
        if (!pinned) return this.fail(slot, `pinned update ${slot.pinned} is not a complete update under ${slot.source.feedRoot}/${name}/v1`);
        if (!(await this.tryLoad(slot, pinned))) return this.fail(slot, slot.lastError!);
        return slot.serving;
      }
      const current = slot.serving?.version;
      const candidates = updates.filter((u) => (current === undefined || u.id > current) && !slot.rejected.has(u.id)).reverse();
      for (const update of candidates) if (await this.tryLoad(slot, update)) return slot.serving;
      if (slot.serving) return slot.serving;
      return this.fail(slot, candidates.length === 0 && slot.rejected.size === 0 ? `no complete update under ${slot.source.feedRoot}/${name}/v1` : (slot.lastError ?? 'no loadable update'));
    });
  }

  private fail(slot: Slot, message: string): never {
    // Polls repeat the same failure: log it when it changes.
    if (slot.lastError !== message) this.options.logger.error({ model: slot.source.name, err: message }, 'model not loaded');
    slot.lastError = message;
    throw new RecserveError('feed_invalid', `model ${slot.source.name}: ${message}`);
  }

  /** Loads one update and swaps it in; a failure is remembered so the update is not tried again. */
  private async tryLoad(slot: Slot, update: FeedUpdate): Promise<boolean> {
    const name = slot.source.name;
    try {
      const snapshot = await loadUpdate(name, update.id, update.dir, this.options);
      const scoring = (await this.options.prepare?.(snapshot)) ?? null;
      slot.serving = snapshot;
      slot.scoring = scoring;
      // A rejection of a newer update stays visible while an older one serves.
      if ([...slot.rejected.keys()].every((id) => id < update.id)) slot.lastError = null;
      this.options.onLoad?.(name, 'loaded', snapshot);
      this.options.logger.info({ model: name, kind: snapshot.kind, version: update.id, rank: snapshot.rank, scoring: scoring && { lone: scoring.lone, batched: scoring.batched, isa: scoring.isa } }, 'model loaded');
      return true;
    } catch (err) {
      const reason = isRecserveError(err) ? `${err.code}: ${err.message}` : (err as Error).message;
      slot.rejected.set(update.id, reason);
      slot.lastError = reason;
      this.options.onLoad?.(name, 'rejected');
      this.options.logger.error({ model: name, version: update.id, err: reason }, 'model update rejected');
      return false;
    }
  }

  /** Serves `version` and stops following the feed until unpinned. */
  async pin(name: string, version: string): Promise<LoadedModel> {
    const slot = this.slot(name);
    const previous = slot.pinned;
    slot.pinned = version;
    // A pin is an operator's explicit choice: it may retry an update refused before.
    slot.rejected.delete(version);
    try {
      return (await this.refresh(name))!;
    } catch (err) {
      slot.pinned = previous;
      throw new RecserveError('update_rejected', `cannot pin ${name} to ${version}: ${slot.rejected.get(version) ?? (err as Error).message}`);
    }
  }

  /** Follows the feed again from the newest update. */
  async unpin(name: string): Promise<LoadedModel | undefined> {
    this.slot(name).pinned = null;
    return this.refresh(name);
  }

  status(): ModelStatus[] {
    return [...this.slots.values()].map((slot) => {
      const s = slot.serving;
      const als = s?.kind === 'als' ? s : undefined;
      return {
        name: slot.source.name,
        kind: s?.kind ?? null,
        loaded: s !== undefined,
        version: s?.version ?? null,
        rank: s?.rank ?? null,
        numUsers: als?.numUsers ?? null,
        numItems: als?.numItems ?? null,
        itemEncoding: als?.itemEncoding ?? null,
        scoring: slot.scoring,
        loadedAt: s?.loadedAt.toISOString() ?? null,
        lastError: slot.lastError,
      };
    });
  }

  async adminStatus(): Promise<ModelAdminStatus[]> {
    const base = this.status();
    return Promise.all(
      [...this.slots.values()].map(async (slot, i) => ({
        ...base[i]!,
        pinned: slot.pinned,
        candidates: (await listUpdates(slot.source.feedRoot, slot.source.name)).filter((u) => u.complete).map((u) => u.id),
        rejected: [...slot.rejected].map(([version, reason]) => ({ version, reason })),
      })),
    );
  }
}
