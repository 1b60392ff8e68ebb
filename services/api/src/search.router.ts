import { Router } from 'express';
import type { SearchCache } from '@marquee/cache';
import type { EventRepository } from '@marquee/db';
import { ParsedQueryCache, rawQueryOf } from './parsed-query.cache.ts';
import { parseQuery, sendCached, type CachePolicy } from './response.envelope.ts';
import { searchQuerySchema } from './search-query.schema.ts';

export interface SearchRouterOptions {
  events: EventRepository;
  cache: SearchCache;
  cachePolicy: CachePolicy;
}

interface SearchWindow {
  readonly startsAt: Date | undefined;
  readonly endsAt: Date | undefined;
  readonly key: string;
}

/** `GET /search`: the Fever contract, answered from cached body text whenever possible. */
export function searchRouter({ events, cache, cachePolicy }: SearchRouterOptions): Router {
  const router = Router();
  const parsed = new ParsedQueryCache<SearchWindow>();
  router.get('/search', async (req, res) => {
    const { startsAt, endsAt, key } = parsed.get(rawQueryOf(req.url), () => {
      const query = parseQuery(searchQuerySchema, req.query);
      return {
        startsAt: query.starts_at,
        endsAt: query.ends_at,
        // Keyed by the instants, so every spelling of the same window shares one entry.
        key: `search:${query.starts_at?.toISOString() ?? '-'}:${query.ends_at?.toISOString() ?? '-'}`,
      };
    });
    const cached = await cache.get(key, async () => {
      const eventsJson = await events.searchJson({ startsAt, endsAt });
      return `{"data":{"events":${eventsJson}},"error":null}`;
    });
    sendCached(req, res, cached, cachePolicy);
  });
  return router;
}
