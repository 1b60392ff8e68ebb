import { Prisma } from './generated/prisma/client.ts';
import { CANONICAL_ONLY } from './canonical-event.sql.ts';
import type { EventRecord } from '@marquee/event-model';
import {
  BULK_TIMEOUTS,
  EventTransaction,
  type ProviderRef,
  type UpsertResult,
} from './event-batch.writer.ts';
import { EventGroupWriter, type GroupedWrite } from './event-group.writer.ts';
import { eventFilterConditions, overlapCondition, type EventFilter } from './event-filter.sql.ts';
import { pgArray } from './pg-text.encoder.ts';
import type { Db } from './prisma.client.ts';
import { TransactionGate } from './transaction.gate.ts';

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

/** Where an event came from: its provider, that provider's own key, and its prices. */
export interface EventSource {
  provider: string;
  external_key: string;
  online: boolean;
  first_seen_at: Date;
  last_seen_at: Date;
  min_price: number | null;
  max_price: number | null;
  currency: string | null;
}

export interface EventRepositoryOptions {
  /**
   * Bulk-write transactions open at once (unset: no bound), so that they never hold every
   * connection of the pool (bulkTransactionSlots).
   */
  bulkTransactions?: number;
}

export class EventRepository {
  private groups: EventGroupWriter | undefined;
  /** Holds every transaction of `openTransaction` (and so `upsertMany`) to its slots. */
  readonly transactionGate: TransactionGate | undefined;

  constructor(
    private readonly db: Db,
    options: EventRepositoryOptions = {},
  ) {
    if (options.bulkTransactions !== undefined)
      this.transactionGate = new TransactionGate(options.bulkTransactions);
  }

  /**
   * A transaction of one provider's bulk writes, on a connection of its own: they commit
   * together or not at all (a sync that writes while it parses rolls back when the payload turns
   * out malformed). The caller must end it with `commit` or `rollback`. With `bulkTransactions`,
   * it first waits for a slot, holding no connection, and gives the slot back with the connection.
   */
  async openTransaction(provider: ProviderRef): Promise<EventTransaction> {
    const free = await this.transactionGate?.take();
    try {
      return await EventTransaction.open(this.db.pool, provider, BULK_TIMEOUTS, free);
    } catch (error) {
      // Once only: an open that failed after taking a connection gave the slot back with it.
      free?.();
      throw error;
    }
  }

  /**
   * A provider's whole (small) payload, committed together with the writes of other syncs of
   * this process that arrive meanwhile (EventGroupWriter); resolves once its rows are committed.
   */
  writeGrouped(write: GroupedWrite): Promise<UpsertResult> {
    this.groups ??= new EventGroupWriter(this.db.pool);
    return this.groups.write(write);
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

  /**
   * One searchable event with every source of the same real event (its canonical group, see
   * CANONICAL_ONLY), the first-seen one first; null when there is none with that id. Its prices
   * span the sources': the least min and the greatest max (spanSources).
   */
  async findById(id: string): Promise<EventWithSources | null> {
    return (await this.findManyById([id])).get(id) ?? null;
  }

  /** findById for many ids in two queries; ids without a searchable event are absent. */
  async findManyById(ids: readonly string[]): Promise<Map<string, EventWithSources>> {
    const found = new Map<string, EventWithSources>();
    if (ids.length === 0) return found;
    const idArray = pgArray(ids);
    const rows = await this.db.$queryRaw<EventRow[]>`
      SELECT ${EVENT_ROW_COLUMNS}
      FROM events e JOIN providers p ON p.id = e.provider_id
      WHERE e.id = ANY(${idArray}::uuid[]) AND e.ever_online`;
    if (rows.length === 0) return found;
    const sources = await this.db.$queryRaw<
      (EventSource & { target: string; source_id: string })[]
    >`
      SELECT t.id::text AS target, s.* FROM unnest(${idArray}::uuid[]) AS t(id)
      CROSS JOIN LATERAL (
        WITH target AS (SELECT canonical_key, match_key FROM events WHERE id = t.id),
        keys AS (
          SELECT canonical_key AS key FROM target WHERE canonical_key IS NOT NULL
          UNION
          -- A row without a shared code is the coded event its match key meets.
          SELECT k.canonical_key FROM target g JOIN events k ON k.match_key = g.match_key
          WHERE g.canonical_key NOT LIKE 'dedupe:%' AND k.canonical_key LIKE 'dedupe:%'
            AND k.ever_online),
        members AS (
          SELECT o.id FROM events o WHERE o.canonical_key IN (SELECT key FROM keys)
          UNION
          -- Rows without a code that a coded row of the group meets by its match key.
          SELECT u.id FROM events k JOIN events u ON u.match_key = k.match_key
          WHERE k.canonical_key IN (SELECT key FROM keys) AND k.canonical_key LIKE 'dedupe:%'
            AND k.ever_online AND u.canonical_key NOT LIKE 'dedupe:%'
          UNION
          SELECT t.id)
        SELECT o.id AS source_id, p.name AS provider, o.external_key, o.online, o.first_seen_at,
          o.last_seen_at, o.min_price::float8 AS min_price, o.max_price::float8 AS max_price,
          o.currency
        FROM members m JOIN events o ON o.id = m.id JOIN providers p ON p.id = o.provider_id
        WHERE o.ever_online) s
      ORDER BY s.first_seen_at, s.source_id`;
    const byTarget = new Map<string, EventSource[]>();
    // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the order's tie-breaker
    for (const { target, source_id, ...source } of sources) {
      const list = byTarget.get(target) ?? [];
      list.push(source);
      byTarget.set(target, list);
    }
    for (const row of rows) {
      const rowSources = byTarget.get(row.id) ?? [];
      found.set(row.id, { ...row, ...spanSources(row, rowSources), sources: rowSources });
    }
    return found;
  }
}

/** A searchable event with every source of the same real event. */
export type EventWithSources = EventRow & { sources: EventSource[] };

/**
 * The prices of a canonical event: the least of its sources' mins and the greatest of their
 * maxes, over the sources in its currency (the row's own, else the first source's that has one;
 * a source without a currency counts). Only comparisons: no arithmetic touches a price.
 */
function spanSources(
  row: Pick<EventRow, 'min_price' | 'max_price' | 'currency'>,
  sources: readonly Pick<EventSource, 'min_price' | 'max_price' | 'currency'>[],
): Pick<EventRow, 'min_price' | 'max_price' | 'currency'> {
  const currency =
    row.currency ?? sources.find((source) => source.currency !== null)?.currency ?? null;
  const priced = [row, ...sources].filter(
    (source) => source.currency === null || currency === null || source.currency === currency,
  );
  const mins = priced.flatMap((source) => (source.min_price === null ? [] : [source.min_price]));
  const maxes = priced.flatMap((source) => (source.max_price === null ? [] : [source.max_price]));
  return {
    min_price: mins.length > 0 ? Math.min(...mins) : null,
    max_price: maxes.length > 0 ? Math.max(...maxes) : null,
    currency,
  };
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
