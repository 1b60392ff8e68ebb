import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { EventRecord } from '@marquee/event-model';
import {
  BULK_TIMEOUTS,
  copyLine,
  COPY_STAGE_SQL,
  CREATE_STAGE_SQL,
  INSERT_STAGE_SQL,
  MERGE_STAGE_SQL,
  type ProviderRef,
  type UpsertResult,
} from './event-batch.writer.ts';
import { StatementBatcher } from './statement.batcher.ts';

/** One provider's whole payload, small enough to share a transaction with others. */
export interface GroupedWrite {
  provider: ProviderRef;
  /** Keys unique within the write (a repeated key takes the EventTransaction way). */
  events: readonly EventRecord[];
  seenAt: Date;
  /**
   * Forget the provider's applied payload in the same transaction as its rows (see
   * FetchStateRepository.forgetPayload): no payload is taken for unchanged until the run saves
   * the new one.
   */
  forgetPayload: boolean;
}

/** Sessions known to hold the stage table (created on a connection's first group). */
const staged = new WeakSet<pg.PoolClient>();

/**
 * Group commit for small writes (StatementBatcher): the whole payloads of concurrent syncs in one
 * process (a cycle of many small providers) are written together, one COPY into the session's
 * stage and one transaction that merges them, instead of three statements and a commit per
 * provider. A write resolves only once its rows are committed, so a job still completes after
 * its write; a group that fails is written again member by member. Members with stored events
 * are merged (new keys inserted, only changed rows rewritten, as EventTransaction's); members
 * with none (a first ingest, the common case of a cycle of new providers) are inserted without
 * the merge's conflict arbitration, which costs PostgreSQL about 8% less CPU per row
 * (`pnpm bench:group-write`). Such a member's keys are unique within its write, so only a
 * concurrent first ingest of the same provider can collide: its unique-key error fails the
 * group, which is written again member by member, and that member then merges.
 */
export class EventGroupWriter {
  private readonly batcher = new StatementBatcher((group: GroupedWrite[]) => this.commit(group));

  constructor(
    private readonly pool: pg.Pool,
    private readonly statementTimeoutMs = BULK_TIMEOUTS.maxMs,
  ) {}

  write(write: GroupedWrite): Promise<UpsertResult> {
    if (write.events.length === 0 && !write.forgetPayload) return Promise.resolve({ written: 0 });
    return this.batcher.submit(write);
  }

  /** Writes the group in one transaction: rows written per member; throws when it rolled back. */
  private async commit(group: GroupedWrite[]): Promise<UpsertResult[]> {
    const client = await this.pool.connect();
    let results: pg.QueryResult[];
    try {
      if (!staged.has(client)) {
        await client.query(CREATE_STAGE_SQL);
        staged.add(client);
      }
      // The stage is the session's own table: copied outside the transaction (nothing to log),
      // emptied by the transaction below, or by the cleanup when it fails.
      const text = encode(group);
      await pipeline(
        Readable.from(text === '' ? [] : [text]),
        client.query(copyFrom(COPY_STAGE_SQL)),
      );
      // A multi-statement query answers with one result per statement.
      results = (await client.query(
        transactionSql(group, this.statementTimeoutMs, client),
      )) as unknown as pg.QueryResult[];
    } catch (error) {
      await client.query('ROLLBACK; TRUNCATE event_stage').then(
        () => client.release(),
        (cleanup: unknown) => client.release(cleanup instanceof Error ? cleanup : true),
      );
      throw error;
    }
    client.release();
    // The merge's and the insert's counts are the SELECTs among the statements' results.
    const written = new Map<string, number>();
    for (const result of results) {
      if (result.command !== 'SELECT') continue;
      for (const row of result.rows as { id: string; n: number }[]) written.set(row.id, row.n);
    }
    return group.map((member) => ({ written: written.get(member.provider.id) ?? 0 }));
  }
}

/**
 * The group's rows as one COPY text: pg-copy-streams sends each chunk with two socket writes, so
 * one chunk per group rather than per member (a group's small payloads are in memory anyway).
 */
function encode(group: readonly GroupedWrite[]): string {
  const lines: string[] = [];
  for (const member of group) {
    const fixed = { provider: member.provider.id, seen: member.seenAt.toISOString() };
    for (const event of member.events) lines.push(copyLine(member.provider, fixed, event));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/**
 * The group's one transaction: forget applied payloads, merge the staged rows of members with
 * stored events, insert those of members without (rows per provider). The merge runs first: it
 * writes only members that had events, so the insert's "no stored event" still finds exactly
 * the members that had none when the transaction began.
 */
function transactionSql(group: readonly GroupedWrite[], timeoutMs: number, client: pg.PoolClient) {
  const ids = (members: readonly GroupedWrite[]) =>
    members.map((member) => `${client.escapeLiteral(member.provider.id)}::uuid`).join(', ');
  const forget = group.filter((member) => member.forgetPayload);
  const writing = ids(group.filter((member) => member.events.length > 0));
  const stored = (negate: '' | 'NOT ') =>
    `provider_id IN (SELECT p FROM unnest(ARRAY[${writing}]) AS p
    WHERE ${negate}EXISTS (SELECT 1 FROM events s WHERE s.provider_id = p))`;
  return `BEGIN;
SET LOCAL statement_timeout = ${Math.max(1, Math.trunc(timeoutMs))};
${
  forget.length === 0
    ? ''
    : `UPDATE provider_fetch_states SET etag = NULL, last_modified = NULL, content_hash = NULL,
  seen_marked_at = NULL, updated_at = now() WHERE provider_id IN (${ids(forget)});`
}
${
  writing === ''
    ? ''
    : `WITH merged AS (${MERGE_STAGE_SQL(stored(''))} RETURNING provider_id)
SELECT provider_id::text AS id, count(*)::int AS n FROM merged GROUP BY provider_id;
WITH inserted AS (${INSERT_STAGE_SQL(stored('NOT '))} RETURNING provider_id)
SELECT provider_id::text AS id, count(*)::int AS n FROM inserted GROUP BY provider_id;`
}
TRUNCATE event_stage;
COMMIT`;
}
