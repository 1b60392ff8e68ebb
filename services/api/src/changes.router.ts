import { Router } from 'express';
import {
  FEED_START,
  toEventDetail,
  type ChangeRepository,
  type EventRepository,
} from '@marquee/db';
import { encodeChangeCursor } from './change-cursor.codec.ts';

import { ApiError, parseQuery, sendJsonText } from './response.envelope.ts';
import { changesQuerySchema } from './search-query.schema.ts';

export interface ChangesRouterOptions {
  changes: ChangeRepository;
  events: EventRepository;
  retentionDays: number;
}

/**
 * `GET /v1/changes`: the change feed (docs/changes.md). Each change carries the event's current
 * answer of `/v1/events/:id` (null once it left the catalog): a reader that applies them in order
 * ends with the catalog as it is. Never cached: a page's end moves as writers commit.
 */
export function changesRouter({ changes, events, retentionDays }: ChangesRouterOptions): Router {
  const router = Router();
  router.get('/v1/changes', async (req, res) => {
    const query = parseQuery(changesQuerySchema, req.query);
    const page = await changes.read(query.after, query.limit);
    if (page.expired) {
      throw new ApiError(
        410,
        'cursor_expired',
        `after: this cursor is older than the feed's retention (${retentionDays} days); copy the catalog again and start from the newest cursor`,
      );
    }
    const found = await events.findManyById([...new Set(page.changes.map((c) => c.eventId))]);
    const items = page.changes.map((change) => {
      const event = found.get(change.eventId);
      return {
        cursor: encodeChangeCursor(change),
        kind: change.kind,
        event_id: change.eventId,
        changed_at: change.changedAt.toISOString(),
        event: event ? toEventDetail(event) : null,
      };
    });
    const last = page.changes.at(-1) ?? query.after ?? page.horizon ?? FEED_START;
    res.set('Cache-Control', 'private, no-store');
    const body = {
      data: {
        changes: items,
        next_cursor: encodeChangeCursor(last),
        has_more: page.changes.length === query.limit,
      },
      error: null,
    };
    sendJsonText(res, 200, JSON.stringify(body));
  });
  return router;
}
