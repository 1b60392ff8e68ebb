import { Router } from 'express';
import type { SearchCache } from '@marquee/cache';
import type { EventRepository, EventRow } from '@marquee/db';
import { encodeCursor } from './page-cursor.codec.ts';
import { parseQuery, sendJsonText } from './response.envelope.ts';
import { eventsSearchQuerySchema } from './search-query.schema.ts';

export interface EventsRouterOptions {
  events: EventRepository;
  cache: SearchCache;
}

function toEvent(row: EventRow) {
  return {
    id: row.id,
    provider: row.provider,
    title: row.title,
    start_date: row.start_date,
    start_time: row.start_time,
    end_date: row.end_date,
    end_time: row.end_time,
    starts_at: row.starts_at.toISOString(),
    ends_at: row.ends_at?.toISOString() ?? null,
    timezone: row.timezone,
    min_price: row.min_price,
    max_price: row.max_price,
    currency: row.currency,
  };
}

/** `/v1/events/…`: the `/search` envelope with filters and keyset paging. */
export function eventsRouter({ events, cache }: EventsRouterOptions): Router {
  const router = Router();
  router.get('/v1/events/search', async (req, res) => {
    const query = parseQuery(eventsSearchQuerySchema, req.query);
    const key = `v1-search:${JSON.stringify([
      query.starts_at?.toISOString() ?? null,
      query.ends_at?.toISOString() ?? null,
      query.provider ?? null,
      query.limit,
      query.cursor ? encodeCursor(query.cursor) : null,
    ])}`;
    const { value, outcome } = await cache.get(key, async () => {
      // One row past the page tells whether another page exists without a count query.
      const rows = await events.searchPage({
        startsAt: query.starts_at,
        endsAt: query.ends_at,
        provider: query.provider,
        limit: query.limit + 1,
        after: query.cursor,
      });
      const page = rows.slice(0, query.limit);
      const last = page.at(-1);
      const nextCursor =
        rows.length > query.limit && last
          ? encodeCursor({ startAt: last.starts_at, id: last.id })
          : null;
      return JSON.stringify({
        data: { events: page.map(toEvent), next_cursor: nextCursor },
        error: null,
      });
    });
    sendJsonText(res, 200, value, outcome);
  });
  return router;
}
