import type { EventRow, EventWithSources } from './event.repository.ts';

/** An event as the `/v1` API answers it (one spelling for the API and webhooks). */
export function toEventView(row: EventRow) {
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
    venue_name: row.venue_name,
    city: row.city,
    country: row.country,
    status: row.status,
    url: row.url,
    performers: row.performers,
  };
}

/** An event as `/v1/events/:id` answers it: with every source of the same real event. */
export function toEventDetail(event: EventWithSources) {
  return {
    ...toEventView(event),
    sources: event.sources.map((source) => ({
      ...source,
      first_seen_at: source.first_seen_at.toISOString(),
      last_seen_at: source.last_seen_at.toISOString(),
    })),
  };
}
