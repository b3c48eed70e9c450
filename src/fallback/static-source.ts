import { readFileSync } from 'node:fs';
import { RecserveError } from '../errors.js';
import type { ScoredItemId } from '../shared.js';
import { parseStaticList } from './static-list.js';
import type { FallbackSource } from './source.js';

/** Key of the list shared by every variant in a per-variant file. */
export const SHARED_LIST = '*';

/**
 * Ranked lists from a JSON file: one list shared by every variant (`[...]`), or lists per variant
 * with an optional shared one (`{"control": [...], "*": [...]}`). The same list for every user.
 */
export class StaticSource implements FallbackSource {
  readonly kind = 'static';
  readonly inMemory = true;
  private readonly lists: Map<string, ScoredItemId[]>;

  constructor(
    readonly name: string,
    file: string,
  ) {
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new RecserveError('static_list_invalid', `${file}: cannot read JSON (${(err as Error).message})`);
    }
    const entries: [string, unknown][] = Array.isArray(raw) ? [[SHARED_LIST, raw]] : raw && typeof raw === 'object' ? Object.entries(raw) : [];
    if (entries.length === 0) throw new RecserveError('static_list_invalid', `${file}: must hold a list, or an object of lists by variant`);
    this.lists = new Map(entries.map(([variant, list]) => [variant, parseStaticList(list, `${file}${Array.isArray(raw) ? '' : ` [${variant}]`}`)]));
  }

  async lookup(variant: string, _userId: string, n: number): Promise<ScoredItemId[] | null> {
    const list = this.lists.get(variant) ?? this.lists.get(SHARED_LIST);
    return list ? list.slice(0, n) : null;
  }

  state(): string {
    return 'ready';
  }

  async close(): Promise<void> {}
}
