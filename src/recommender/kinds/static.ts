import type { ItemRecommender, ScoredItemId, VariantAnswer, VariantRequest } from './types.js';

/** The same ranked list for everyone (e.g. the most popular items), minus exclusions. */
export class StaticRecommender implements ItemRecommender {
  readonly kind = 'static';

  constructor(private readonly items: readonly ScoredItemId[]) {}

  async recommend({ n, exclude }: VariantRequest): Promise<VariantAnswer> {
    const skip = new Set(exclude);
    const items: ScoredItemId[] = [];
    for (const item of this.items) {
      if (items.length === n) break;
      if (!skip.has(item.itemId)) items.push(item);
    }
    return { items, model: null };
  }
}
