import { Router } from 'express';
import type { SearchCache } from '@marquee/cache';
import { toEventDetail, toEventView, type EventPageQuery, type EventRepository } from '@marquee/db';
import { encodeCursor } from './page-cursor.codec.ts';
import {
  ApiError,
  parseQuery,
  sendCached,
  sendJsonText,
  type CachePolicy,
} from './response.envelope.ts';
import {
  eventsSearchQuerySchema,
  searchWindowOf,
  type EventsSearchQuery,
} from './search-query.schema.ts';

export interface EventsRouterOptions {
  events: EventRepository;
  cache: SearchCache;
  cachePolicy: CachePolicy;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The page query in the code's spelling: the one place API names map to repository names. */
function pageQueryOf(query: EventsSearchQuery): EventPageQuery {
  return {
    ...searchWindowOf(query),
    overlap: query.overlap,
    provider: query.provider,
    text: query.q,
    city: query.city,
    country: query.country,
    performer: query.performer,
    status: query.status,
    minPrice: query.min_price,
    maxPrice: query.max_price,
    limit: query.limit,
    after: query.cursor,
  };
}

/** One cache entry per distinct result: case-insensitive filters are keyed folded. */
function cacheKeyOf(page: EventPageQuery): string {
  return `v1-search:${JSON.stringify([
    page.startsAt?.toISOString() ?? null,
    page.endsAt?.toISOString() ?? null,
    page.overlap ?? false,
    page.provider ?? null,
    page.text ?? null,
    page.city?.toLowerCase() ?? null,
    page.country?.toLowerCase() ?? null,
    page.performer ?? null,
    page.status ?? null,
    page.minPrice ?? null,
    page.maxPrice ?? null,
    page.limit,
    page.after ? encodeCursor(page.after) : null,
  ])}`;
}

async function loadPage(events: EventRepository, page: EventPageQuery): Promise<string> {
  // One row past the page tells whether another page exists without a count query.
  const rows = await events.searchPage({ ...page, limit: page.limit + 1 });
  const served = rows.slice(0, page.limit);
  const last = served.at(-1);
  const nextCursor =
    rows.length > page.limit && last
      ? encodeCursor({ startsAt: last.starts_at, id: last.id })
      : null;
  return JSON.stringify({
    data: { events: served.map(toEventView), next_cursor: nextCursor },
    error: null,
  });
}

/** `/v1/events/…`: the `/search` envelope with filters and keyset paging, and single events. */
export function eventsRouter({ events, cache, cachePolicy }: EventsRouterOptions): Router {
  const router = Router();
  router.get('/v1/events/search', async (req, res) => {
    const page = pageQueryOf(parseQuery(eventsSearchQuerySchema, req.query));
    const cached = await cache.get(cacheKeyOf(page), () => loadPage(events, page));
    sendCached(req, res, cached, cachePolicy);
  });

  router.get('/v1/events/:id', async (req, res) => {
    const { id } = req.params;
    // Not a 400: an id that cannot exist is as unknown as one that does not.
    const event = UUID.test(id) ? await events.findById(id.toLowerCase()) : null;
    if (!event) throw new ApiError(404, 'not_found', 'no event with this id');
    const body = { data: { event: toEventDetail(event) }, error: null };
    res.set('Cache-Control', `public, max-age=${cachePolicy.maxAgeSeconds}`);
    sendJsonText(res, 200, JSON.stringify(body));
  });
  return router;
}
