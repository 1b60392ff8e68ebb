import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import type { SearchCache } from '@marquee/cache';
import type { EventRepository } from '@marquee/db';
import { parsedQueryCache, rawQueryOf } from './parsed-query.cache.ts';
import { parseQuery, sendCached, type CachePolicy } from './response.envelope.ts';
import { searchQuerySchema, searchWindowOf } from './search-query.schema.ts';

export interface SearchEndpointOptions {
  events: EventRepository;
  cache: SearchCache;
  cachePolicy: CachePolicy;
}

/** A `/search` window and its cache key. */
export interface SearchWindow {
  readonly startsAt: Date | undefined;
  readonly endsAt: Date | undefined;
  readonly key: string;
}

/**
 * `GET /search`: the Fever contract, answered from cached body text whenever possible. One
 * instance serves the Express route and the fast path, so both share the parsed queries.
 */
export class SearchEndpoint {
  private readonly parsed = parsedQueryCache<SearchWindow>();

  constructor(private readonly options: SearchEndpointOptions) {}

  /** The window of a query string; throws the 400 to answer when it does not fit. */
  windowOf(rawQuery: string, query: () => unknown): SearchWindow {
    const known = this.parsed.get(rawQuery);
    if (known) return known;
    const { startsAt, endsAt } = searchWindowOf(parseQuery(searchQuerySchema, query()));
    // Keyed by the instants, so every way of writing the same window shares one entry.
    const window = {
      startsAt,
      endsAt,
      key: `search:${startsAt?.toISOString() ?? '-'}:${endsAt?.toISOString() ?? '-'}`,
    };
    // Only valid queries are kept (a bad one threw its 400 above).
    this.parsed.set(rawQuery, window);
    return window;
  }

  /**
   * The window of a query string seen (and valid) before whose answer this process has in
   * memory right now; undefined for anything else.
   */
  hotWindow(rawQuery: string): SearchWindow | undefined {
    const window = this.parsed.get(rawQuery);
    return window && this.options.cache.isHot(window.key) ? window : undefined;
  }

  async answer(req: IncomingMessage, res: ServerResponse, window: SearchWindow): Promise<void> {
    const { events, cache, cachePolicy } = this.options;
    const cached = await cache.get(window.key, async () => {
      const eventsJson = await events.searchJson(window);
      return `{"data":{"events":${eventsJson}},"error":null}`;
    });
    sendCached(req, res, cached, cachePolicy);
  }
}

export function searchRouter(search: SearchEndpoint): Router {
  const router = Router();
  router.get('/search', async (req, res) => {
    await search.answer(
      req,
      res,
      search.windowOf(rawQueryOf(req.url), () => req.query),
    );
  });
  return router;
}
