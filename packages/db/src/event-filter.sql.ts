import { Prisma } from './generated/prisma/client.ts';

/** Filters of `/v1/events/search` beyond the time window; every one is optional and ANDed. */
export interface EventFilter {
  /**
   * Window semantics: containment (default, as `/search`) or overlap: the event's span
   * [start, end or start] intersects [startsAt, endsAt].
   */
  overlap?: boolean | undefined;
  provider?: string | undefined;
  /** Case-insensitive substring of the title or the venue name. */
  text?: string | undefined;
  /** Exact venue city / country, case-insensitive. */
  city?: string | undefined;
  country?: string | undefined;
  /** Case-insensitive substring of one of the event's performers. */
  performer?: string | undefined;
  status?: string | undefined;
  /**
   * Price bounds: an event matches when its [min_price, max_price] intersects them (an open end
   * taken as the known one); an event without prices never matches a price bound.
   */
  minPrice?: number | undefined;
  maxPrice?: number | undefined;
}

/** `%`, `_` and the escape character itself are literal in a text filter. */
function likePattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (char) => `\\${char}`)}%`;
}

/** SQL conditions over `events e` for `filter`, excluding the window bounds themselves. */
export function eventFilterConditions(filter: EventFilter): Prisma.Sql[] {
  const conditions: Prisma.Sql[] = [];
  if (filter.provider !== undefined) {
    conditions.push(
      Prisma.sql`e.provider_id = (SELECT id FROM providers WHERE name = ${filter.provider})`,
    );
  }
  if (filter.text !== undefined) {
    const pattern = likePattern(filter.text);
    conditions.push(Prisma.sql`(e.title ILIKE ${pattern} OR e.venue_name ILIKE ${pattern})`);
  }
  if (filter.city !== undefined)
    conditions.push(Prisma.sql`lower(e.venue_city) = lower(${filter.city})`);
  if (filter.country !== undefined) {
    conditions.push(Prisma.sql`lower(e.venue_country) = lower(${filter.country})`);
  }
  if (filter.performer !== undefined) {
    const pattern = likePattern(filter.performer);
    conditions.push(
      Prisma.sql`EXISTS (SELECT 1 FROM unnest(e.performers) AS p(name) WHERE p.name ILIKE ${pattern})`,
    );
  }
  if (filter.status !== undefined) conditions.push(Prisma.sql`e.status = ${filter.status}`);
  // A price open at one end ("from 12 €": no max) is taken as its known end there.
  if (filter.minPrice !== undefined) {
    conditions.push(Prisma.sql`coalesce(e.max_price, e.min_price) >= ${filter.minPrice}::numeric`);
  }
  if (filter.maxPrice !== undefined) {
    conditions.push(Prisma.sql`coalesce(e.min_price, e.max_price) <= ${filter.maxPrice}::numeric`);
  }
  return conditions;
}

/** The window as an overlap: the event's span meets [startsAt, endsAt] (bounds inclusive). */
export function overlapCondition(startsAt: Date | undefined, endsAt: Date | undefined): Prisma.Sql {
  const parts = [Prisma.sql`e.ever_online`];
  if (startsAt) parts.push(Prisma.sql`coalesce(e.end_at, e.start_at) >= ${startsAt}`);
  if (endsAt) parts.push(Prisma.sql`e.start_at <= ${endsAt}`);
  return Prisma.join(parts, ' AND ');
}
