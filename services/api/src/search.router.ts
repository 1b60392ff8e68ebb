import { Router } from 'express';
import type { SearchCache } from '@marquee/cache';
import type { EventRepository } from '@marquee/db';
import { parseQuery, sendCached, type CachePolicy } from './response.envelope.ts';
import { searchQuerySchema } from './search-query.schema.ts';

export interface SearchRouterOptions {
  events: EventRepository;
  cache: SearchCache;
  cachePolicy: CachePolicy;
}

/** `GET /search`: the Fever contract, answered from cached body text whenever possible. */
export function searchRouter({ events, cache, cachePolicy }: SearchRouterOptions): Router {
  const router = Router();
  router.get('/search', async (req, res) => {
    const query = parseQuery(searchQuerySchema, req.query);
    const startsAt = query.starts_at;
    const endsAt = query.ends_at;
    // Keyed by the instants, so every spelling of the same window shares one entry.
    const key = `search:${startsAt?.toISOString() ?? '-'}:${endsAt?.toISOString() ?? '-'}`;
    const cached = await cache.get(key, async () => {
      const eventsJson = await events.searchJson({ startsAt, endsAt });
      return `{"data":{"events":${eventsJson}},"error":null}`;
    });
    sendCached(req, res, cached, cachePolicy);
  });
  return router;
}
