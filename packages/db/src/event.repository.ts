import { createHash } from 'node:crypto';
import { v5 as uuidv5 } from 'uuid';
import { Prisma } from './generated/prisma/client.ts';
import type { Db } from './prisma.client.ts';

/** One normalized event as a provider kind produces it. */
export interface EventRecord {
  /** The provider's own key, stable across payloads (Fever: "<base_event_id>/<event_id>"). */
  externalKey: string;
  title: string;
  startAt: Date;
  endAt: Date | null;
  /** IANA zone of the provider's local times. */
  timezone: string;
  /** Decimal strings ("20.00"); null means unknown, never zero. */
  minPrice: string | null;
  maxPrice: string | null;
  currency: string | null;
  /** On sale online in this payload; an event is searchable once this was ever true. */
  online: boolean;
}

export interface ProviderRef {
  id: string;
  name: string;
}

export interface UpsertResult {
  /** Rows inserted or whose content changed; unchanged rows are not rewritten. */
  written: number;
}

// Fixed namespace for public event ids: uuidv5(namespace, "<provider name>\n<external key>").
const EVENT_ID_NAMESPACE = '1b4f0f9e-8d51-4c55-9a53-5b0e2c7d9a10';

/** Public id of an event: the same key gives the same UUID on every machine, forever. */
export function eventId(providerName: string, externalKey: string): string {
  return uuidv5(`${providerName}\n${externalKey}`, EVENT_ID_NAMESPACE);
}

export function contentHash(event: EventRecord): string {
  return createHash('sha256')
    .update(
      JSON.stringify([
        event.title,
        event.startAt.toISOString(),
        event.endAt?.toISOString() ?? null,
        event.timezone,
        event.minPrice,
        event.maxPrice,
        event.currency,
        event.online,
      ]),
    )
    .digest('base64url');
}

// Arrays count as one bind parameter each, so the chunk size bounds statement size and memory,
// not the 32,767-parameter limit.
const CHUNK_SIZE = 5_000;

export interface SearchWindow {
  /** Inclusive lower bound on the start. */
  startsAt?: Date | undefined;
  /** Inclusive upper bound on the end (the start for events without one). */
  endsAt?: Date | undefined;
}

export interface EventPageQuery extends SearchWindow {
  provider?: string | undefined;
  limit: number;
  /** Keyset cursor: the (start, id) of the last event of the previous page. */
  after?: { startAt: Date; id: string } | undefined;
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
}

export class EventRepository {
  constructor(private readonly db: Db) {}

  /**
   * Inserts new events and rewrites only those whose content changed (latest values win), one
   * statement per chunk; re-running it with the same input writes nothing. `ever_online` only
   * ever goes from false to true. Keys must be unique within `events`.
   */
  async upsertMany(
    provider: ProviderRef,
    events: readonly EventRecord[],
    seenAt: Date,
  ): Promise<UpsertResult> {
    let written = 0;
    for (let offset = 0; offset < events.length; offset += CHUNK_SIZE) {
      const chunk = events.slice(offset, offset + CHUNK_SIZE);
      written += await this.db.$executeRaw`
        INSERT INTO events AS e (id, provider_id, external_key, title, start_at, end_at, timezone,
          min_price, max_price, currency, online, ever_online, content_hash,
          first_seen_at, last_seen_at, updated_at)
        SELECT u.id, ${provider.id}::uuid, u.external_key, u.title, u.start_at, u.end_at, u.timezone,
          u.min_price, u.max_price, u.currency, u.online, u.online, u.content_hash,
          ${seenAt}, ${seenAt}, ${seenAt}
        FROM unnest(
          ${chunk.map((event) => eventId(provider.name, event.externalKey))}::uuid[],
          ${chunk.map((event) => event.externalKey)}::text[],
          ${chunk.map((event) => event.title)}::text[],
          ${chunk.map((event) => event.startAt.toISOString())}::timestamptz[],
          ${chunk.map((event) => event.endAt?.toISOString() ?? null)}::timestamptz[],
          ${chunk.map((event) => event.timezone)}::text[],
          ${chunk.map((event) => event.minPrice)}::numeric[],
          ${chunk.map((event) => event.maxPrice)}::numeric[],
          ${chunk.map((event) => event.currency)}::text[],
          ${chunk.map((event) => event.online)}::boolean[],
          ${chunk.map(contentHash)}::text[]
        ) AS u(id, external_key, title, start_at, end_at, timezone, min_price, max_price,
               currency, online, content_hash)
        ON CONFLICT (provider_id, external_key) DO UPDATE SET
          title = EXCLUDED.title,
          start_at = EXCLUDED.start_at,
          end_at = EXCLUDED.end_at,
          timezone = EXCLUDED.timezone,
          min_price = EXCLUDED.min_price,
          max_price = EXCLUDED.max_price,
          currency = EXCLUDED.currency,
          online = EXCLUDED.online,
          ever_online = e.ever_online OR EXCLUDED.online,
          content_hash = EXCLUDED.content_hash,
          last_seen_at = EXCLUDED.last_seen_at,
          updated_at = EXCLUDED.updated_at
        WHERE e.content_hash IS DISTINCT FROM EXCLUDED.content_hash`;
    }
    return { written };
  }

  /**
   * "Last seen" bookkeeping for events whose content did not change. It writes a row at most once
   * per `granularityMs`, so an unchanged feed re-ingested at short intervals writes nothing.
   */
  async markSeen(
    providerId: string,
    externalKeys: readonly string[],
    seenAt: Date,
    granularityMs = 3_600_000,
  ): Promise<number> {
    const staleBefore = new Date(seenAt.getTime() - granularityMs);
    let touched = 0;
    for (let offset = 0; offset < externalKeys.length; offset += CHUNK_SIZE) {
      touched += await this.db.$executeRaw`
        UPDATE events SET last_seen_at = ${seenAt}
        WHERE provider_id = ${providerId}::uuid
          AND external_key = ANY(${externalKeys.slice(offset, offset + CHUNK_SIZE)}::text[])
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
      WHERE ${windowCondition(window)}`;
    return rows[0]?.json ?? '[]';
  }

  /** One page of `/v1/events/search`, in (start, id) order. */
  async searchPage(query: EventPageQuery): Promise<EventRow[]> {
    const conditions = [windowCondition(query)];
    if (query.provider !== undefined) {
      conditions.push(
        Prisma.sql`e.provider_id = (SELECT id FROM providers WHERE name = ${query.provider})`,
      );
    }
    if (query.after) {
      conditions.push(
        Prisma.sql`(e.start_at, e.id) > (${query.after.startAt}, ${query.after.id}::uuid)`,
      );
    }
    return this.db.$queryRaw<EventRow[]>`
      SELECT e.id::text, p.name AS provider, e.title, e.start_at AS starts_at, e.end_at AS ends_at,
        e.timezone,
        to_char(e.start_at AT TIME ZONE e.timezone, 'YYYY-MM-DD') AS start_date,
        to_char(e.start_at AT TIME ZONE e.timezone, 'HH24:MI:SS') AS start_time,
        to_char(e.end_at AT TIME ZONE e.timezone, 'YYYY-MM-DD') AS end_date,
        to_char(e.end_at AT TIME ZONE e.timezone, 'HH24:MI:SS') AS end_time,
        e.min_price::float8 AS min_price, e.max_price::float8 AS max_price, e.currency
      FROM events e JOIN providers p ON p.id = e.provider_id
      WHERE ${Prisma.join(conditions, ' AND ')}
      ORDER BY e.start_at, e.id
      LIMIT ${query.limit}`;
  }
}

function windowCondition({ startsAt, endsAt }: SearchWindow): Prisma.Sql {
  const parts = [Prisma.sql`e.ever_online`];
  if (startsAt) parts.push(Prisma.sql`e.start_at >= ${startsAt}`);
  if (endsAt) parts.push(Prisma.sql`coalesce(e.end_at, e.start_at) <= ${endsAt}`);
  return Prisma.join(parts, ' AND ');
}
