import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import type { SearchCache } from '@marquee/cache';
import type { EventRepository } from '@marquee/db';
import { ParsedQueryCache, rawQueryOf } from './parsed-query.cache.ts';
import { parseQuery, sendCached, type CachePolicy } from './response.envelope.ts';
import { searchQuerySchema } from './search-query.schema.ts';

export interface SearchEndpointOptions {
  events: EventRepository;
  cache: SearchCache;
  cachePolicy: CachePolicy;
}

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
  private readonly parsed = new ParsedQueryCache<SearchWindow>();

  constructor(private readonly options: SearchEndpointOptions) {}

  /** The window of a query string; throws the 400 to answer when it does not fit. */
  windowOf(rawQuery: string, query: () => unknown): SearchWindow {
    return this.parsed.get(rawQuery, () => {
      const { starts_at, ends_at } = parseQuery(searchQuerySchema, query());
      return {
        startsAt: starts_at,
        endsAt: ends_at,
        // Keyed by the instants, so every spelling of the same window shares one entry.
        key: `search:${starts_at?.toISOString() ?? '-'}:${ends_at?.toISOString() ?? '-'}`,
      };
    });
  }

  /**
   * The window of a query string seen (and valid) before whose answer this process has in
   * memory right now; undefined for anything else.
   */
  hotWindow(rawQuery: string): SearchWindow | undefined {
    const window = this.parsed.peek(rawQuery);
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
