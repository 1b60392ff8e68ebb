import { once } from 'node:events';
import { Readable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom, type CopyStreamQuery } from 'pg-copy-streams';
import { eventKeys } from './canonical-event.sql.ts';
import { contentHash, coreFields, details, eventId, type EventRecord } from '@marquee/event-model';
import { copyField, pgArray, type PgScalar } from './pg-text.encoder.ts';

/** The provider whose events a write carries. */
export interface ProviderRef {
  id: string;
  name: string;
}

export interface UpsertResult {
  /** Rows inserted or whose content changed; unchanged rows are not rewritten. */
  written: number;
}

/**
 * Bounds on one bulk-write transaction, so that a stuck sync never holds row locks for long:
 * - `idleMs`: longest it may sit idle between two statements (between batches of a streamed
 *   sync, a batch is parsed in milliseconds); enforced by PostgreSQL, so it holds even for a
 *   frozen process;
 * - `maxMs`: longest it may stay open at all; enforced here (an open COPY is not "idle" to
 *   PostgreSQL, and waits for data however long it takes). A 100k-event feed takes seconds.
 */
export interface BulkTimeouts {
  idleMs: number;
  maxMs: number;
}

export const BULK_TIMEOUTS: BulkTimeouts = { idleMs: 60_000, maxMs: 10 * 60_000 };

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
  ['match_key', 'text'],
] as const;

const columnList = COLUMNS.map(([name]) => name).join(', ');

// A temporary table lives as long as its connection: created by the first bulk write on a pooled
// connection, reused by the later ones (no catalog churn per sync). Every merge empties it in the
// same transaction and a failed transaction rolls its rows back, so it is empty between uses.
// The last statement answers whether the provider has no stored event yet.
export const CREATE_STAGE_SQL = `CREATE TEMPORARY TABLE IF NOT EXISTS event_stage (${COLUMNS.map(([name, type]) => `${name} ${type}`).join(', ')})`;

const openSql = (idleMs: number, providerLiteral: string) => `BEGIN;
SET LOCAL idle_in_transaction_session_timeout = ${Math.max(1, Math.trunc(idleMs))};
${CREATE_STAGE_SQL};
SELECT NOT EXISTS (SELECT 1 FROM events WHERE provider_id = ${providerLiteral}::uuid) AS fresh`;

export const COPY_STAGE_SQL = `COPY event_stage (${columnList}) FROM STDIN`;
const COPY_EVENTS_SQL = `COPY events (${columnList}) FROM STDIN`;

/** The staged rows (those `where` selects) inserted as they are: every key must be new. */
export const INSERT_STAGE_SQL = (where: string) => `INSERT INTO events (${columnList})
  SELECT ${columnList} FROM event_stage WHERE ${where}`;

/**
 * The merge of the staged chunk (or of the rows `where` selects): inserts new keys, rewrites rows
 * whose content changed, or whose keys differ from the current rules' (a stored row gets them
 * when its provider syncs next).
 */
export const MERGE_STAGE_SQL = (where = 'true') => `INSERT INTO events AS e (${columnList})
  SELECT ${columnList} FROM event_stage WHERE ${where}
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
    match_key = EXCLUDED.match_key,
    content_hash = EXCLUDED.content_hash,
    last_seen_at = EXCLUDED.last_seen_at,
    updated_at = EXCLUDED.updated_at
  WHERE e.content_hash IS DISTINCT FROM EXCLUDED.content_hash
    OR e.canonical_key IS DISTINCT FROM EXCLUDED.canonical_key
    OR e.match_key IS DISTINCT FROM EXCLUDED.match_key`;

const MERGE_SQL = `${MERGE_STAGE_SQL()};
TRUNCATE event_stage`;

/**
 * One event as a line of COPY text (no newline), fields in COLUMNS order; `fixed` holds the
 * provider id and the seen-at fields, the same for every line of a write.
 */
export function copyLine(
  provider: ProviderRef,
  fixed: { provider: string; seen: string },
  event: EventRecord,
): string {
  const extra = details(event);
  const keys = eventKeys(event);
  const core = coreFields(event);
  const fields: PgScalar[] = [
    eventId(provider.name, event.externalKey),
    fixed.provider,
    event.externalKey,
    ...core,
    event.online,
    contentHash(event, core),
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
    keys.canonical,
    keys.match,
  ];
  // join, not +=: a flat string at once instead of a rope of ~50 cons cells per line, which
  // lived until the chunk was sent and made every scavenge copy them (half the encode time).
  return fields.map(copyField).join('\t');
}

/** One write's rows as COPY text chunks: straight into `events`, or through the stage. */
interface EncodedWrite {
  direct: string[];
  /** Lines in `direct`: each inserts one row (or the COPY, and the transaction, fails). */
  directRows: number;
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
  /** The COPY into `events` kept open across writes (copyDirect), and the rows sent into it. */
  private directCopy: { stream: CopyStreamQuery; ended: Promise<void> } | undefined;
  private directRows = 0;
  // A checked-out client's connection errors (e.g. the idle timeout ending the session) are
  // emitted on the client (unheard, they would crash the process); the next write reports it.
  private connectionError: Error | undefined;
  private readonly onConnectionError = (error: Error) => {
    // The first says why (the server's reason); "Connection terminated" follows it.
    this.connectionError ??= error;
  };
  /** Set when the transaction outlived `maxMs`: every later write and the commit fail with it. */
  private expired: Error | undefined;
  private deadline: NodeJS.Timeout | undefined;

  private constructor(
    private readonly client: pg.PoolClient,
    readonly provider: ProviderRef,
    private readonly onEnd: (() => void) | undefined,
  ) {
    client.on('error', this.onConnectionError);
  }

  /** True when rows go straight into `events` (the provider had none when this began). */
  get writesDirectly(): boolean {
    return this.directKeys !== undefined;
  }

  /** `onEnd` runs once, when the transaction hands its connection back (also if opening fails). */
  static async open(
    pool: pg.Pool,
    provider: ProviderRef,
    timeouts: BulkTimeouts = BULK_TIMEOUTS,
    onEnd?: () => void,
  ): Promise<EventTransaction> {
    const client = await pool.connect();
    const transaction = new EventTransaction(client, provider, onEnd);
    transaction.deadline = setTimeout(() => transaction.expire(timeouts.maxMs), timeouts.maxMs);
    transaction.deadline.unref();
    try {
      const results = (await client.query(
        openSql(timeouts.idleMs, client.escapeLiteral(provider.id)),
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
      this.assertUsable();
      for (const text of encoded.direct) await this.copyDirect(text);
      this.directRows += encoded.directRows;
      let written = encoded.directRows;
      if (encoded.staged.length > 0) await this.endDirectCopy();
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
    const encoded: EncodedWrite = { direct: [], directRows: 0, staged: [] };
    const lines: { direct: string[]; staged: string[] } = { direct: [], staged: [] };
    const flush = (way: 'direct' | 'staged') => {
      if (lines[way].length === 0) return;
      encoded[way].push(`${lines[way].join('\n')}\n`);
      lines[way] = [];
    };
    for (const event of events) {
      const way = this.directKeys?.has(event.externalKey) === false ? 'direct' : 'staged';
      this.directKeys?.add(event.externalKey);
      lines[way].push(copyLine(this.provider, fixed, event));
      if (way === 'direct') encoded.directRows += 1;
      if (lines[way].length === CHUNK_SIZE) flush(way);
    }
    flush('direct');
    flush('staged');
    return encoded;
  }

  private assertUsable(): void {
    if (this.expired) throw this.expired;
    if (this.connectionError) {
      throw new Error(`bulk-write connection lost: ${this.connectionError.message}`, {
        cause: this.connectionError,
      });
    }
  }

  /** The deadline passed: an open COPY is aborted at once, which fails the transaction. */
  private expire(maxMs: number): void {
    this.expired = new Error(`bulk-write transaction still open after ${maxMs} ms; aborted`);
    this.directCopy?.stream.destroy(this.expired);
  }

  /**
   * Sends rows into the COPY that stays open across writes, opened by the first one: PostgreSQL
   * inserts them as they arrive, while the caller parses the next batch, with no command
   * round trip per batch. Resolves once the connection took the text, not once it is stored:
   * an error in it (a value PostgreSQL rejects) fails a later write or the commit.
   */
  private async copyDirect(text: string): Promise<void> {
    if (!this.directCopy) {
      const stream = this.client.query(copyFrom(COPY_EVENTS_SQL));
      const ended = finished(stream);
      // Observed by the next write or the end of the COPY.
      ended.catch(() => undefined);
      this.directCopy = { stream, ended };
    }
    const { stream, ended } = this.directCopy;
    if (stream.errored) throw stream.errored;
    if (!stream.write(text)) await Promise.race([once(stream, 'drain'), ended]);
  }

  /** Ends the open COPY, if any, before another statement; checks every row was stored. */
  private async endDirectCopy(): Promise<void> {
    const copy = this.directCopy;
    if (!copy) return;
    this.directCopy = undefined;
    copy.stream.end();
    await copy.ended;
    if (copy.stream.rowCount !== this.directRows) {
      throw new Error(`COPY stored ${copy.stream.rowCount} rows of ${this.directRows}`);
    }
    this.directRows = 0;
  }

  async commit(): Promise<void> {
    if (!this.open) throw new Error('event transaction already ended');
    this.open = false;
    await this.inTurn(async () => {
      try {
        this.assertUsable();
        await this.endDirectCopy();
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
        // An open COPY is aborted (CopyFail) before the connection takes another command.
        const copy = this.directCopy;
        this.directCopy = undefined;
        copy?.stream.destroy(new Error('bulk write rolled back'));
        await copy?.ended.catch(() => undefined);
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
    clearTimeout(this.deadline);
    this.client.removeListener('error', this.onConnectionError);
    this.client.release(error instanceof Error ? error : error === undefined ? undefined : true);
    this.onEnd?.();
  }
}
