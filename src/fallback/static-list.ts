import { readFileSync } from 'node:fs';
import { RecserveError } from '../errors.js';
import { MAX_ID_LENGTH, type ScoredItemId } from '../shared.js';

function invalid(file: string, message: string): never {
  throw new RecserveError('static_list_invalid', `${file}: ${message}`);
}

/**
 * A ranked item list from a JSON file: `[{"itemId": "7", "score": 0.9}, ...]`, or bare ids
 * `["7", "3"]`, which are scored by rank (the first of n items scores n, the last 1).
 */
export function loadStaticList(file: string): ScoredItemId[] {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    invalid(file, `cannot read a JSON list (${(err as Error).message})`);
  }
  return parseStaticList(raw, file);
}

/** Checks one parsed list; `where` names it in errors. */
export function parseStaticList(raw: unknown, where: string): ScoredItemId[] {
  const file = where;
  if (!Array.isArray(raw) || raw.length === 0) invalid(file, 'must hold a non-empty JSON array');
  const seen = new Set<string>();
  return raw.map((entry: unknown, i) => {
    const item =
      typeof entry === 'string' || typeof entry === 'number'
        ? { itemId: String(entry), score: raw.length - i }
        : entry && typeof entry === 'object'
          ? { itemId: String((entry as Record<string, unknown>).itemId ?? ''), score: (entry as Record<string, unknown>).score }
          : invalid(file, `entry ${i} is neither an id nor {itemId, score}`);
    if (item.itemId.length === 0 || item.itemId.length > MAX_ID_LENGTH) invalid(file, `entry ${i}: itemId must be 1..${MAX_ID_LENGTH} characters`);
    if (typeof item.score !== 'number' || !Number.isFinite(item.score)) invalid(file, `entry ${i}: score must be a finite number`);
    if (seen.has(item.itemId)) invalid(file, `entry ${i}: item ${item.itemId} is listed twice`);
    seen.add(item.itemId);
    return { itemId: item.itemId, score: item.score };
  });
}
