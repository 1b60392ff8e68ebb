import { hash } from 'node:crypto';
import { parse as uuidParse, v5 as uuidv5 } from 'uuid';
import { Prisma } from './generated/prisma/client.ts';
import { CANONICAL_ONLY, canonicalKey } from './canonical-event.sql.ts';
import { eventFilterConditions, overlapCondition, type EventFilter } from './event-filter.sql.ts';
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
  // Details the richer kinds carry (Fever has none of them): absent means unknown.
  /** `startAt`/`endAt` are dates without a time of day, at local midnight in `timezone`. */
  allDay?: boolean;
  url?: string | null;
  venue?: EventVenue | null;
  performers?: readonly string[];
  status?: EventStatus | null;
}

export type EventStatus = 'scheduled' | 'cancelled' | 'postponed';

export interface EventVenue {
  name: string | null;
  address: string | null;
  city: string | null;
  country: string | null;
  lat: number | null;
  lon: number | null;
}

/** The details columns of one event, null/empty when unknown. */
function details(event: EventRecord) {
  const venue = event.venue ?? null;
  return {
    allDay: event.allDay ?? false,
    url: event.url ?? null,
    venueName: venue?.name ?? null,
    venueAddress: venue?.address ?? null,
    venueCity: venue?.city ?? null,
    venueCountry: venue?.country ?? null,
    venueLat: venue?.lat ?? null,
    venueLon: venue?.lon ?? null,
    performers: event.performers ?? [],
    status: event.status ?? null,
  };
}

/**
 * One PostgreSQL array literal for a whole column of a chunk: the driver then sends one string
 * per column instead of converting thousands of values one by one. Every element is quoted
 * and escaped (as pg's own array serialisation does); null becomes NULL.
 */
function pgArray(values: readonly (string | number | boolean | null)[]): string {
  let literal = '{';
  for (let index = 0; index < values.length; index += 1) {
    const value = values[index];
    if (index > 0) literal += ',';
    if (value === null || value === undefined) literal += 'NULL';
    else if (typeof value === 'string') literal += `"${value.replace(/[\\"]/g, '\\$&')}"`;
    else literal += `"${String(value)}"`;
  }
  return `${literal}}`;
}

function hasDetails(event: EventRecord): boolean {
  return (
    event.allDay !== undefined ||
    event.url !== undefined ||
    event.venue !== undefined ||
    event.performers !== undefined ||
    event.status !== undefined
  );
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
// As bytes: uuid parses a string namespace on every call.
const EVENT_ID_NAMESPACE = uuidParse('1b4f0f9e-8d51-4c55-9a53-5b0e2c7d9a10');

/** Public id of an event: the same key gives the same UUID on every machine, forever. */
export function eventId(providerName: string, externalKey: string): string {
  return uuidv5(`${providerName}\n${externalKey}`, EVENT_ID_NAMESPACE);
}

export function contentHash(event: EventRecord): string {
  // One-shot hash: no Hash object per event (the same digest as createHash's).
  return hash(
    'sha256',
    JSON.stringify([
      event.title,
      event.startAt.toISOString(),
      event.endAt?.toISOString() ?? null,
      event.timezone,
      event.minPrice,
      event.maxPrice,
      event.currency,
      event.online,
      // Only events with details hash them, so hashes of detail-less (Fever) events written
      // before the details existed stay equal and their re-ingest writes nothing.
      ...(hasDetails(event) ? [details(event)] : []),
    ]),
    'base64url',
  );
}

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
  venue_name: string | null;
  city: string | null;
  country: string | null;
  status: string | null;
  url: string | null;
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
   * Runs `work` with a repository bound to one transaction: its writes commit together or not at
   * all (a sync that writes while it parses rolls back when the payload turns out malformed).
   */
  transaction<T>(work: (events: EventRepository) => Promise<T>, timeoutMs: number): Promise<T> {
    return this.db.$transaction((tx) => work(new EventRepository(tx as unknown as Db)), {
      timeout: timeoutMs,
      maxWait: 10_000,
    });
  }

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
      const extra = chunk.map(details);
      written += await this.db.$executeRaw`
        INSERT INTO events AS e (id, provider_id, external_key, title, start_at, end_at, timezone,
          min_price, max_price, currency, online, ever_online, content_hash,
          first_seen_at, last_seen_at, updated_at, all_day, url, venue_name, venue_address,
          venue_city, venue_country, venue_lat, venue_lon, performers, status, canonical_key)
        SELECT u.id, ${provider.id}::uuid, u.external_key, u.title, u.start_at, u.end_at, u.timezone,
          u.min_price, u.max_price, u.currency, u.online, u.online, u.content_hash,
          ${seenAt}, ${seenAt}, ${seenAt}, u.all_day, u.url, u.venue_name, u.venue_address,
          u.venue_city, u.venue_country, u.venue_lat, u.venue_lon,
          -- unnest flattens a text[][]; performers travel as one JSON array text per event.
          ARRAY(SELECT jsonb_array_elements_text(u.performers)), u.status, u.canonical_key
        FROM unnest(
          ${pgArray(chunk.map((event) => eventId(provider.name, event.externalKey)))}::uuid[],
          ${pgArray(chunk.map((event) => event.externalKey))}::text[],
          ${pgArray(chunk.map((event) => event.title))}::text[],
          ${pgArray(chunk.map((event) => event.startAt.toISOString()))}::timestamptz[],
          ${pgArray(chunk.map((event) => event.endAt?.toISOString() ?? null))}::timestamptz[],
          ${pgArray(chunk.map((event) => event.timezone))}::text[],
          ${pgArray(chunk.map((event) => event.minPrice))}::numeric[],
          ${pgArray(chunk.map((event) => event.maxPrice))}::numeric[],
          ${pgArray(chunk.map((event) => event.currency))}::text[],
          ${pgArray(chunk.map((event) => event.online))}::boolean[],
          ${pgArray(chunk.map(contentHash))}::text[],
          ${pgArray(extra.map((d) => d.allDay))}::boolean[],
          ${pgArray(extra.map((d) => d.url))}::text[],
          ${pgArray(extra.map((d) => d.venueName))}::text[],
          ${pgArray(extra.map((d) => d.venueAddress))}::text[],
          ${pgArray(extra.map((d) => d.venueCity))}::text[],
          ${pgArray(extra.map((d) => d.venueCountry))}::text[],
          ${pgArray(extra.map((d) => d.venueLat))}::float8[],
          ${pgArray(extra.map((d) => d.venueLon))}::float8[],
          ${pgArray(extra.map((d) => JSON.stringify(d.performers)))}::jsonb[],
          ${pgArray(extra.map((d) => d.status))}::text[],
          ${pgArray(chunk.map(canonicalKey))}::text[]
        ) AS u(id, external_key, title, start_at, end_at, timezone, min_price, max_price,
               currency, online, content_hash, all_day, url, venue_name, venue_address,
               venue_city, venue_country, venue_lat, venue_lon, performers, status,
               canonical_key)
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
          all_day = EXCLUDED.all_day,
          url = EXCLUDED.url,
          venue_name = EXCLUDED.venue_name,
          venue_address = EXCLUDED.venue_address,
          venue_city = EXCLUDED.venue_city,
          venue_country = EXCLUDED.venue_country,
          venue_lat = EXCLUDED.venue_lat,
          venue_lon = EXCLUDED.venue_lon,
          performers = EXCLUDED.performers,
          status = EXCLUDED.status,
          canonical_key = EXCLUDED.canonical_key,
          content_hash = EXCLUDED.content_hash,
          last_seen_at = EXCLUDED.last_seen_at,
          updated_at = EXCLUDED.updated_at
        WHERE e.content_hash IS DISTINCT FROM EXCLUDED.content_hash`;
    }
    return { written };
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
        Prisma.sql`(e.start_at, e.id) > (${query.after.startAt}, ${query.after.id}::uuid)`,
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
  e.venue_name, e.venue_city AS city, e.venue_country AS country, e.status, e.url`;

function windowCondition({ startsAt, endsAt }: SearchWindow): Prisma.Sql {
  const parts = [Prisma.sql`e.ever_online`];
  if (startsAt) parts.push(Prisma.sql`e.start_at >= ${startsAt}`);
  if (endsAt) parts.push(Prisma.sql`coalesce(e.end_at, e.start_at) <= ${endsAt}`);
  return Prisma.join(parts, ' AND ');
}
