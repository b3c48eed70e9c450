import { firstNotExcluded, type ItemRecommender, type ScoredItemId, type VariantAnswer, type VariantRequest } from './types.js';

/** The same ranked list for everyone (e.g. the most popular items), minus exclusions. */
export class StaticRecommender implements ItemRecommender {
  readonly kind = 'static';

  constructor(private readonly items: readonly ScoredItemId[]) {}

  async recommend({ n, exclude }: VariantRequest): Promise<VariantAnswer> {
    return { items: firstNotExcluded(this.items, exclude, n), model: null };
  }
}
