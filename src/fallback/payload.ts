import type { Logger } from 'pino';
import { MAX_ID_LENGTH, type ScoredItemId } from '../shared.js';

/** Cached values above this many bytes are refused as corrupt: nobody stores 1 MB of item ids per user. */
export const MAX_PAYLOAD_BYTES = 1024 * 1024;

/** Stored form of a cached list: `[{"itemId":"7","score":4.31},...]`, best first. */
export function encodeItems(items: readonly ScoredItemId[]): string {
  return JSON.stringify(items.map(({ itemId, score }) => ({ itemId, score })));
}

export class PayloadError extends Error {
  override name = 'PayloadError';
}

/** Parses and checks a cached value; anything malformed is a PayloadError, which callers count as a miss. */
export function decodeItems(raw: string | Buffer, n: number): ScoredItemId[] {
  if (raw.length > MAX_PAYLOAD_BYTES) throw new PayloadError(`payload of ${raw.length} bytes exceeds ${MAX_PAYLOAD_BYTES}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(typeof raw === 'string' ? raw : raw.toString('utf8'));
  } catch {
    throw new PayloadError('payload is not JSON');
  }
  if (!Array.isArray(parsed)) throw new PayloadError('payload is not a JSON array');
  const items: ScoredItemId[] = [];
  for (let i = 0; i < parsed.length && items.length < n; i++) {
    const entry = parsed[i] as { itemId?: unknown; score?: unknown } | null;
    const itemId = entry?.itemId;
    const score = entry?.score;
    if (typeof itemId !== 'string' || itemId.length === 0 || itemId.length > MAX_ID_LENGTH) throw new PayloadError(`entry ${i}: itemId must be a string of 1..${MAX_ID_LENGTH} characters`);
    if (typeof score !== 'number' || !Number.isFinite(score)) throw new PayloadError(`entry ${i}: score must be a finite number`);
    items.push({ itemId, score });
  }
  return items;
}

/** Who read a cached value, to log and count a corrupt one. */
export interface PayloadContext {
  source: string;
  variant: string;
  userId: string;
  logger: Logger;
  onCorrupt?: (source: string) => void;
}

/** A cached value's items, or null for a missing or corrupt value (logged and counted, never thrown). */
export function itemsOrMiss(raw: string | Buffer | null | undefined, n: number, context: PayloadContext): ScoredItemId[] | null {
  if (raw === null || raw === undefined) return null;
  try {
    return decodeItems(raw, n);
  } catch (err) {
    if (!(err instanceof PayloadError)) throw err;
    return corruptEntry(context, err.message);
  }
}

/** A user's unusable cached entry: logged and counted, and a miss for that user only. */
export function corruptEntry(context: PayloadContext, reason: string): null {
  context.logger.warn({ source: context.source, variant: context.variant, userId: context.userId, err: reason }, 'corrupt cached entry treated as a miss');
  context.onCorrupt?.(context.source);
  return null;
}
