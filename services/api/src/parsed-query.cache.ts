import { LRUCache } from 'lru-cache';

/**
 * Results of parsing a query string, by the raw query string: a pure function of it (the app's
 * "simple" query parser, then a zod schema), so a repeated query skips both. Keep only
 * successful parses (a bad query re-parses, to throw its 400); the least recently used entry
 * goes first once `maxEntries` is reached. Entries are shared: never mutate one.
 */
export function parsedQueryCache<T extends object>(maxEntries = 1_000): LRUCache<string, T> {
  return new LRUCache<string, T>({ max: maxEntries });
}

/** The query string of a request URL, without the `?` ('' when there is none). */
export function rawQueryOf(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? '' : url.slice(mark + 1);
}
