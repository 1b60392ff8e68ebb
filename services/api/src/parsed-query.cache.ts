/**
 * Results of parsing a query string, by the raw query string: a pure function of it (the app's
 * "simple" query parser, then a zod schema), so a repeated query skips both. Only successful
 * parses are kept (a bad query re-parses, to throw its 400); the least recently used entry goes
 * first once `maxEntries` is reached. Entries are shared: never mutate one.
 */
export class ParsedQueryCache<T> {
  private readonly entries = new Map<string, T>();

  constructor(private readonly maxEntries = 1_000) {}

  /** The remembered result, if any (refreshing its recency); never parses. */
  peek(rawQuery: string): T | undefined {
    const known = this.entries.get(rawQuery);
    if (known !== undefined) {
      this.entries.delete(rawQuery);
      this.entries.set(rawQuery, known);
    }
    return known;
  }

  get(rawQuery: string, parse: () => T): T {
    const known = this.peek(rawQuery);
    if (known !== undefined) return known;
    const parsed = parse();
    if (this.entries.size >= this.maxEntries)
      this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(rawQuery, parsed);
    return parsed;
  }
}

/** The query string of a request URL, without the `?` ('' when there is none). */
export function rawQueryOf(url: string): string {
  const mark = url.indexOf('?');
  return mark === -1 ? '' : url.slice(mark + 1);
}
