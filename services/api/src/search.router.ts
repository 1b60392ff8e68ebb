import { Router } from 'express';
import type { SearchCache } from '@marquee/cache';
import type { EventRepository } from '@marquee/db';
import { parseQuery, sendJsonText } from './response.envelope.ts';
import { searchQuerySchema } from './search-query.schema.ts';

export interface SearchRouterOptions {
  events: EventRepository;
  cache: SearchCache;
}

/** `GET /search`: the Fever contract, answered from cached body text whenever possible. */
export function searchRouter({ events, cache }: SearchRouterOptions): Router {
  const router = Router();
  router.get('/search', async (req, res) => {
    const query = parseQuery(searchQuerySchema, req.query);
    const startsAt = query.starts_at;
    const endsAt = query.ends_at;
    // Keyed by the instants, so every spelling of the same window shares one entry.
    const key = `search:${startsAt?.toISOString() ?? '-'}:${endsAt?.toISOString() ?? '-'}`;
    const { value, outcome } = await cache.get(key, async () => {
      const eventsJson = await events.searchJson({ startsAt, endsAt });
      return `{"data":{"events":${eventsJson}},"error":null}`;
    });
    sendJsonText(res, 200, value, outcome);
  });
  return router;
}
