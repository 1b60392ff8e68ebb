import { Prisma } from './generated/prisma/client.ts';
import { CANONICAL_ONLY } from './canonical-event.sql.ts';
import type { EventRecord } from '@marquee/event-model';
import { EventTransaction, type ProviderRef, type UpsertResult } from './event-batch.writer.ts';
import { eventFilterConditions, overlapCondition, type EventFilter } from './event-filter.sql.ts';
import { pgArray } from './pg-text.encoder.ts';
import type { Db } from './prisma.client.ts';

/** How far "last seen" may lag behind the last payload that carried the event. */
export const LAST_SEEN_GRANULARITY_MS = 3_600_000;

// Arrays count as one bind parameter each, so the chunk size bounds statement size and memory,
// not the 32,767-parameter limit.
const CHUNK_SIZE = 5_000;

export interface SearchWindow {
  /** Inclusive lower bound on the start. */
  startsAt?: Date | undefined;
  /** Inclusive upper bound on the end (the start for events without one). */
  endsAt?: Date | undefined;
}

export interface EventPageQuery extends SearchWindow, EventFilter {
  limit: number;
  /** Keyset cursor: the (start, id) of the last event of the previous page. */
  after?: { startsAt: Date; id: string } | undefined;
}

export interface EventRow {
  id: string;
  provider: string;
  title: string;
  starts_at: Date;
  ends_at: Date | null;
  timezone: string;
  start_date: string;
  start_time: string;
  end_date: string | null;
  end_time: string | null;
  min_price: number | null;
  max_price: number | null;
  currency: string | null;
  venue_name: string | null;
  city: string | null;
  country: string | null;
  status: string | null;
  url: string | null;
  performers: string[];
}

/** Where an event came from: its provider and that provider's own key. */
export interface EventSource {
  provider: string;
  external_key: string;
  online: boolean;
  first_seen_at: Date;
  last_seen_at: Date;
}

export class EventRepository {
  constructor(private readonly db: Db) {}

  /**
   * A transaction of one provider's bulk writes, on a connection of its own: they commit
   * together or not at all (a sync that writes while it parses rolls back when the payload turns
   * out malformed). The caller must end it with `commit` or `rollback`.
   */
  openTransaction(provider: ProviderRef): Promise<EventTransaction> {
    return EventTransaction.open(this.db.pool, provider);
  }

  /**
   * Inserts new events and rewrites only those whose content changed (latest values win), in
   * one transaction; re-running it with the same input writes nothing. `ever_online` only ever
   * goes from false to true. Keys must be unique within `events`.
   */
  async upsertMany(
    provider: ProviderRef,
    events: readonly EventRecord[],
    seenAt: Date,
  ): Promise<UpsertResult> {
    if (events.length === 0) return { written: 0 };
    const transaction = await this.openTransaction(provider);
    try {
      const result = await transaction.upsertMany(events, seenAt);
      await transaction.commit();
      return result;
    } catch (error) {
      await transaction.rollback();
      throw error;
    }
  }

  /**
   * "Last seen" bookkeeping for events whose content did not change: afterwards every key has a
   * last seen of at least `seenAt` minus half the granularity. Half, so that a sync may skip this
   * for up to half the granularity after it ran (an unchanged payload taken as such unparsed) and
   * "last seen" still lags by less than the granularity. It writes a row at most once per
   * half-granularity, so an unchanged feed re-ingested at short intervals writes nothing.
   */
  async markSeen(
    providerId: string,
    externalKeys: readonly string[],
    seenAt: Date,
    granularityMs = LAST_SEEN_GRANULARITY_MS,
  ): Promise<number> {
    const staleBefore = new Date(seenAt.getTime() - granularityMs / 2);
    let touched = 0;
    for (let offset = 0; offset < externalKeys.length; offset += CHUNK_SIZE) {
      touched += await this.db.$executeRaw`
        UPDATE events SET last_seen_at = ${seenAt}
        WHERE provider_id = ${providerId}::uuid
          AND external_key = ANY(${pgArray(externalKeys.slice(offset, offset + CHUNK_SIZE))}::text[])
          AND last_seen_at < ${staleBefore}`;
    }
    return touched;
  }

  /**
   * The `/search` result as a JSON array text, built by Postgres in one pass: containment,
   * inclusive bounds, ordered by start; dates and times in each event's own timezone.
   */
  async searchJson(window: SearchWindow): Promise<string> {
    // row_to_json writes compact JSON with the columns in select order (json_build_object would
    // add a space after every colon).
    const rows = await this.db.$queryRaw<{ json: string | null }[]>`
      SELECT '[' || string_agg(row_to_json(j)::text, ',' ORDER BY e.start_at, e.id) || ']' AS json
      FROM events e, LATERAL (
        SELECT e.id, e.title,
          to_char(e.start_at AT TIME ZONE e.timezone, 'YYYY-MM-DD') AS start_date,
          to_char(e.start_at AT TIME ZONE e.timezone, 'HH24:MI:SS') AS start_time,
          to_char(e.end_at AT TIME ZONE e.timezone, 'YYYY-MM-DD') AS end_date,
          to_char(e.end_at AT TIME ZONE e.timezone, 'HH24:MI:SS') AS end_time,
          e.min_price::float8 AS min_price, e.max_price::float8 AS max_price
      ) j
      WHERE ${windowCondition(window)} AND ${CANONICAL_ONLY}`;
    return rows[0]?.json ?? '[]';
  }

  /** One page of `/v1/events/search`, in (start, id) order. */
  async searchPage(query: EventPageQuery): Promise<EventRow[]> {
    const conditions = [
      query.overlap ? overlapCondition(query.startsAt, query.endsAt) : windowCondition(query),
      ...eventFilterConditions(query),
    ];
    // One provider's own listing shows all its events, duplicates of other providers' included.
    if (query.provider === undefined) conditions.push(CANONICAL_ONLY);
    if (query.after) {
      conditions.push(
        Prisma.sql`(e.start_at, e.id) > (${query.after.startsAt}, ${query.after.id}::uuid)`,
      );
    }
    return this.db.$queryRaw<EventRow[]>`
      SELECT ${EVENT_ROW_COLUMNS}
      FROM events e JOIN providers p ON p.id = e.provider_id
      WHERE ${Prisma.join(conditions, ' AND ')}
      ORDER BY e.start_at, e.id
      LIMIT ${query.limit}`;
  }

  /** One searchable event with where it came from; null when there is none with that id. */
  async findById(id: string): Promise<(EventRow & { sources: EventSource[] }) | null> {
    const rows = await this.db.$queryRaw<(EventRow & EventSource)[]>`
      SELECT ${EVENT_ROW_COLUMNS}, e.external_key, e.online,
        e.first_seen_at, e.last_seen_at
      FROM events e JOIN providers p ON p.id = e.provider_id
      WHERE e.id = ${id}::uuid AND e.ever_online`;
    const row = rows[0];
    if (!row) return null;
    const { external_key, online, first_seen_at, last_seen_at, ...event } = row;
    // Every provider's row of the same real event (canonical key), the first-seen one first.
    const sources = await this.db.$queryRaw<EventSource[]>`
      SELECT p.name AS provider, o.external_key, o.online, o.first_seen_at, o.last_seen_at
      FROM events e JOIN events o ON o.id = e.id OR o.canonical_key = e.canonical_key
        JOIN providers p ON p.id = o.provider_id
      WHERE e.id = ${id}::uuid AND o.ever_online
      ORDER BY o.first_seen_at, o.id`;
    return {
      ...event,
      sources:
        sources.length > 0
          ? sources
          : [{ provider: row.provider, external_key, online, first_seen_at, last_seen_at }],
    };
  }
}

const EVENT_ROW_COLUMNS = Prisma.sql`e.id::text, p.name AS provider, e.title,
  e.start_at AS starts_at, e.end_at AS ends_at, e.timezone,
  to_char(e.start_at AT TIME ZONE e.timezone, 'YYYY-MM-DD') AS start_date,
  to_char(e.start_at AT TIME ZONE e.timezone, 'HH24:MI:SS') AS start_time,
  to_char(e.end_at AT TIME ZONE e.timezone, 'YYYY-MM-DD') AS end_date,
  to_char(e.end_at AT TIME ZONE e.timezone, 'HH24:MI:SS') AS end_time,
  e.min_price::float8 AS min_price, e.max_price::float8 AS max_price, e.currency,
  e.venue_name, e.venue_city AS city, e.venue_country AS country, e.status, e.url,
  e.performers`;

function windowCondition({ startsAt, endsAt }: SearchWindow): Prisma.Sql {
  const parts = [Prisma.sql`e.ever_online`];
  if (startsAt) parts.push(Prisma.sql`e.start_at >= ${startsAt}`);
  if (endsAt) parts.push(Prisma.sql`coalesce(e.end_at, e.start_at) <= ${endsAt}`);
  return Prisma.join(parts, ' AND ');
}
