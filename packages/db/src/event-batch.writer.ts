import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { canonicalKey } from './canonical-event.sql.ts';
import {
  contentHash,
  details,
  eventId,
  type EventRecord,
  type ProviderRef,
  type UpsertResult,
} from './event.record.ts';
import { copyField, pgArray, type PgScalar } from './pg-text.encoder.ts';

/**
 * Longest a bulk-write transaction may sit idle (between two batches of a streamed sync, a batch
 * is parsed in milliseconds): past it PostgreSQL ends the session, so a stuck or frozen process
 * never holds row locks for long. A long but busy transaction is not bounded.
 */
export const BULK_IDLE_TIMEOUT_MS = 60_000;

// Rows per COPY (+ merge): bounds the staged rows and the JS string of one chunk (~2 MB).
const CHUNK_SIZE = 5_000;

/** Every column of `events` a write sets, in COPY line order, with the stage's types. */
const COLUMNS = [
  ['id', 'uuid'],
  ['provider_id', 'uuid'],
  ['external_key', 'text'],
  ['title', 'text'],
  ['start_at', 'timestamptz'],
  ['end_at', 'timestamptz'],
  ['timezone', 'text'],
  ['min_price', 'numeric'],
  ['max_price', 'numeric'],
  ['currency', 'text'],
  ['online', 'boolean'],
  ['ever_online', 'boolean'],
  ['content_hash', 'text'],
  ['first_seen_at', 'timestamptz'],
  ['last_seen_at', 'timestamptz'],
  ['updated_at', 'timestamptz'],
  ['all_day', 'boolean'],
  ['url', 'text'],
  ['venue_name', 'text'],
  ['venue_address', 'text'],
  ['venue_city', 'text'],
  ['venue_country', 'text'],
  ['venue_lat', 'float8'],
  ['venue_lon', 'float8'],
  ['performers', 'text[]'],
  ['status', 'text'],
  ['canonical_key', 'text'],
] as const;

const columnList = COLUMNS.map(([name]) => name).join(', ');

// A temporary table lives as long as its connection: created by the first bulk write on a pooled
// connection, reused by the later ones (no catalog churn per sync). Every merge empties it in the
// same transaction and a failed transaction rolls its rows back, so it is empty between uses.
// The last statement answers whether the provider has no stored event yet.
const openSql = (idleTimeoutMs: number, providerLiteral: string) => `BEGIN;
SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1, Math.trunc(idleTimeoutMs))};
CREATE TEMPORARY TABLE IF NOT EXISTS event_stage (${COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')});
SELECT NOT EXISTS (SELECT 1 FROM events WHERE provider_id = ${providerLiteral}::uuid) AS fresh`;

const COPY_STAGE_SQL = `COPY event_stage (${columnList}) FROM STDIN`;
const COPY_EVENTS_SQL = `COPY events (${columnList}) FROM STDIN`;

/** The merge of the staged chunk: inserts new keys, rewrites rows whose content changed. */
const MERGE_SQL = `INSERT INTO events AS e (${columnList})
  SELECT ${columnList} FROM event_stage
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
  WHERE e.content_hash IS DISTINCT FROM EXCLUDED.content_hash;
TRUNCATE event_stage`;

/**
 * One event as a line of COPY text, fields in COLUMNS order; `fixed` holds the provider id and
 * the seen-at fields, the same for every line of a write.
 */
function copyLine(
  provider: ProviderRef,
  fixed: { provider: string; seen: string },
  event: EventRecord,
): string {
  const extra = details(event);
  const fields: PgScalar[] = [
    eventId(provider.name, event.externalKey),
    fixed.provider,
    event.externalKey,
    event.title,
    event.startAt.toISOString(),
    event.endAt?.toISOString() ?? null,
    event.timezone,
    event.minPrice,
    event.maxPrice,
    event.currency,
    event.online,
    event.online,
    contentHash(event),
    fixed.seen,
    fixed.seen,
    fixed.seen,
    extra.allDay,
    extra.url,
    extra.venueName,
    extra.venueAddress,
    extra.venueCity,
    extra.venueCountry,
    extra.venueLat,
    extra.venueLon,
    pgArray(extra.performers),
    extra.status,
    canonicalKey(event),
  ];
  let line = copyField(fields[0] ?? null);
  for (let index = 1; index < fields.length; index += 1) {
    line += `\t${copyField(fields[index] ?? null)}`;
  }
  return `${line}\n`;
}

/** One write's rows as COPY text chunks: straight into `events`, or through the stage. */
interface EncodedWrite {
  direct: string[];
  staged: string[];
}

/**
 * One transaction of one provider's bulk event writes, on a connection of its own (leased from
 * the pool Prisma uses). Rows travel as COPY text, so PostgreSQL parses no bind values or arrays:
 * - while the provider had no stored event when the transaction began (its first ingest), they
 *   are copied straight into `events`, as fast as PostgreSQL takes rows; a key this transaction
 *   already wrote (a repeat across batches) goes the merge way instead;
 * - otherwise they are copied into a session-local stage and merged from there by one
 *   INSERT … ON CONFLICT per chunk, which rewrites only rows whose content changed.
 * A concurrent first ingest of the same provider makes one of the two fail on the unique key
 * (a transient error: its retry merges). The owner must end it with `commit` or `rollback`;
 * either returns the connection.
 */
export class EventTransaction {
  private open = true;
  private turns: Promise<unknown> = Promise.resolve();
  /** Keys written so far, while writes go straight into `events`; undefined once merging. */
  private directKeys: Set<string> | undefined;
  // A checked-out client's connection errors (e.g. the idle timeout ending the session) are
  // emitted on the client (unheard, they would crash the process); the next write reports it.
  private connectionError: Error | undefined;
  private readonly onConnectionError = (error: Error) => {
    // The first says why (the server's reason); "Connection terminated" follows it.
    this.connectionError ??= error;
  };

  private constructor(
    private readonly client: pg.PoolClient,
    readonly provider: ProviderRef,
  ) {
    client.on('error', this.onConnectionError);
  }

  /** True when rows go straight into `events` (the provider had none when this began). */
  get writesDirectly(): boolean {
    return this.directKeys !== undefined;
  }

  static async begin(
    pool: pg.Pool,
    provider: ProviderRef,
    idleTimeoutMs = BULK_IDLE_TIMEOUT_MS,
  ): Promise<EventTransaction> {
    const client = await pool.connect();
    const transaction = new EventTransaction(client, provider);
    try {
      const results = (await client.query(
        openSql(idleTimeoutMs, client.escapeLiteral(provider.id)),
      )) as unknown as pg.QueryResult<{ fresh: boolean }>[];
      if (results.at(-1)?.rows[0]?.fresh === true) transaction.directKeys = new Set();
    } catch (error) {
      transaction.release(error);
      throw error;
    }
    return transaction;
  }

  /**
   * Inserts new events and rewrites only those whose content changed (latest values win);
   * re-running it with the same input writes nothing. `ever_online` only ever goes from false to
   * true. Keys must be unique within `events`; calls may overlap (each waits for its turn).
   */
  async upsertMany(events: readonly EventRecord[], seenAt: Date): Promise<UpsertResult> {
    if (!this.open) throw new Error('event transaction already ended');
    // Encoded before taking the connection's turn: a caller that hands the next batch over
    // while the previous one is written has it encoded while PostgreSQL merges the previous one.
    const encoded = this.encode(events, seenAt);
    return this.inTurn(async () => {
      if (this.connectionError) {
        throw new Error(`bulk-write connection lost: ${this.connectionError.message}`, {
          cause: this.connectionError,
        });
      }
      let written = 0;
      for (const text of encoded.direct) {
        const copy = this.client.query(copyFrom(COPY_EVENTS_SQL));
        await pipeline(Readable.from([text]), copy);
        written += copy.rowCount;
      }
      for (const text of encoded.staged) {
        await pipeline(Readable.from([text]), this.client.query(copyFrom(COPY_STAGE_SQL)));
        // A multi-statement query answers with one result per statement: the INSERT's is first.
        const results = (await this.client.query(MERGE_SQL)) as unknown as pg.QueryResult[];
        written += results[0]?.rowCount ?? 0;
      }
      return { written };
    });
  }

  private encode(events: readonly EventRecord[], seenAt: Date): EncodedWrite {
    const fixed = { provider: this.provider.id, seen: seenAt.toISOString() };
    const encoded: EncodedWrite = { direct: [], staged: [] };
    const texts = { direct: '', staged: '' };
    const counts = { direct: 0, staged: 0 };
    for (const event of events) {
      const way = this.directKeys?.has(event.externalKey) === false ? 'direct' : 'staged';
      this.directKeys?.add(event.externalKey);
      texts[way] += copyLine(this.provider, fixed, event);
      counts[way] += 1;
      if (counts[way] === CHUNK_SIZE) {
        encoded[way].push(texts[way]);
        texts[way] = '';
        counts[way] = 0;
      }
    }
    if (counts.direct > 0) encoded.direct.push(texts.direct);
    if (counts.staged > 0) encoded.staged.push(texts.staged);
    return encoded;
  }

  async commit(): Promise<void> {
    if (!this.open) throw new Error('event transaction already ended');
    this.open = false;
    await this.inTurn(async () => {
      try {
        await this.client.query('COMMIT');
      } catch (error) {
        this.release(error);
        throw error;
      }
      this.release();
    });
  }

  /** Undoes every write of the transaction; a no-op once it has ended. */
  async rollback(): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.inTurn(async () => {
      try {
        await this.client.query('ROLLBACK');
      } catch (error) {
        // The connection is gone (and the transaction with it): drop it from the pool.
        this.release(error);
        return;
      }
      this.release();
    });
  }

  /**
   * Runs `work` once every earlier call's work has settled: one statement sequence at a time on
   * the connection (a COPY and its merge must not interleave with another batch's).
   */
  private inTurn<T>(work: () => Promise<T>): Promise<T> {
    const turn = this.turns.then(work);
    this.turns = turn.catch(() => undefined);
    return turn;
  }

  private release(error?: unknown): void {
    this.open = false;
    this.client.removeListener('error', this.onConnectionError);
    this.client.release(error instanceof Error ? error : error === undefined ? undefined : true);
  }
}
