import type { Db } from './prisma.client.ts';

/** What happened to a catalog event (docs/changes.md). */
export type ChangeKind = 'created' | 'updated' | 'cancelled' | 'merged' | 'deleted';

/** A place in the change feed: changes are read in (writer xid, position) order. */
export interface ChangePosition {
  /** The writing transaction's xid8, as decimal text. */
  xid: string;
  position: bigint;
}

export interface Change extends ChangePosition {
  eventId: string;
  kind: ChangeKind;
  changedAt: Date;
}

/** The start of the feed: before every change. */
export const FEED_START: ChangePosition = { xid: '0', position: 0n };

export interface ChangePage {
  changes: Change[];
  /** True when the cursor is before the retention horizon: changes after it may be gone. */
  expired: boolean;
  /** The last change retention deleted, if any: where a reader without a cursor starts. */
  horizon: ChangePosition | undefined;
}

// Purged per statement: bounds the time one DELETE holds its row locks.
const PURGE_CHUNK = 10_000;

/**
 * The change feed written by the triggers of migration 20261207100000_event_changes. A change is
 * readable once its writer's xid is below the oldest xid still in progress
 * (pg_snapshot_xmin(pg_current_snapshot())): every transaction that can still add a change has a
 * greater xid, so it sorts after every change already read, and nothing is ever skipped.
 */
export class ChangeRepository {
  constructor(private readonly db: Db) {}

  /**
   * Up to `limit` readable changes after `after`, in feed order; without `after`, from the oldest
   * change kept (never expired).
   */
  async read(after: ChangePosition | undefined, limit: number): Promise<ChangePage> {
    const from = after ?? FEED_START;
    const rows = await this.db.$queryRaw<
      {
        xid: string | null;
        position: bigint;
        event_id: string;
        kind: ChangeKind;
        changed_at: Date;
        expired: boolean;
        purged_xid: string | null;
        purged_position: bigint | null;
      }[]
    >`
      WITH horizon AS (
        SELECT coalesce(bool_or((purged_xid, purged_position)
          > (${from.xid}::xid8, ${from.position}::bigint)), false) AND ${after !== undefined}
          AS expired, max(purged_xid)::text AS purged_xid, max(purged_position) AS purged_position
        FROM event_change_horizon)
      SELECT c.writer_xid::text AS xid, c.position, c.event_id::text, c.kind, c.changed_at,
        h.expired, h.purged_xid, h.purged_position
      FROM horizon h LEFT JOIN LATERAL (
        SELECT * FROM event_changes c
        WHERE (c.writer_xid, c.position) > (${from.xid}::xid8, ${from.position}::bigint)
          AND c.writer_xid < pg_snapshot_xmin(pg_current_snapshot())
          AND NOT h.expired
        ORDER BY c.writer_xid, c.position
        LIMIT ${limit}) c ON true
      ORDER BY c.writer_xid, c.position`;
    const first = rows[0];
    const expired = first?.expired ?? false;
    const horizon =
      first?.purged_xid != null && first.purged_position !== null
        ? { xid: first.purged_xid, position: first.purged_position }
        : undefined;
    const changes = rows.flatMap((row) =>
      row.xid === null
        ? []
        : [
            {
              xid: row.xid,
              position: row.position,
              eventId: row.event_id,
              kind: row.kind,
              changedAt: row.changed_at,
            },
          ],
    );
    return { changes, expired, horizon };
  }

  /** The last readable change; FEED_START when there is none. */
  async lastReadable(): Promise<ChangePosition> {
    const rows = await this.db.$queryRaw<{ xid: string; position: bigint }[]>`
      SELECT writer_xid::text AS xid, position FROM event_changes
      WHERE writer_xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY writer_xid DESC, position DESC LIMIT 1`;
    return rows[0] ?? FEED_START;
  }

  /**
   * Seconds from the oldest change not yet readable (its writer still in progress, or a slower
   * one before it) to now; 0 when every change is readable.
   */
  async lagSeconds(): Promise<number> {
    const rows = await this.db.$queryRaw<{ lag: number | null }[]>`
      SELECT extract(epoch FROM now() - min(changed_at))::float8 AS lag FROM event_changes
      WHERE writer_xid >= pg_snapshot_xmin(pg_current_snapshot())`;
    return Math.max(0, rows[0]?.lag ?? 0);
  }

  /**
   * Deletes the changes older than `retentionDays`, a prefix of the feed (everything up to the
   * last readable change older than that), in chunks, and records the horizon so that a cursor
   * before it is answered 410. Returns how many changes were deleted.
   */
  async purge(retentionDays: number): Promise<number> {
    const horizon = await this.db.$queryRaw<{ xid: string; position: bigint }[]>`
      SELECT writer_xid::text AS xid, position FROM event_changes
      WHERE changed_at < now() - make_interval(days => ${retentionDays}::int)
        AND writer_xid < pg_snapshot_xmin(pg_current_snapshot())
      ORDER BY writer_xid DESC, position DESC LIMIT 1`;
    const last = horizon[0];
    if (!last) return 0;
    await this.db.$executeRaw`
      INSERT INTO event_change_horizon (id, purged_xid, purged_position, purged_at)
      VALUES (1, ${last.xid}::xid8, ${last.position}::bigint, now())
      ON CONFLICT (id) DO UPDATE SET purged_xid = EXCLUDED.purged_xid,
        purged_position = EXCLUDED.purged_position, purged_at = EXCLUDED.purged_at`;
    let deleted = 0;
    for (;;) {
      const count = await this.db.$executeRaw`
        DELETE FROM event_changes WHERE position IN (
          SELECT position FROM event_changes
          WHERE (writer_xid, position) <= (${last.xid}::xid8, ${last.position}::bigint)
          LIMIT ${PURGE_CHUNK})`;
      deleted += count;
      if (count < PURGE_CHUNK) return deleted;
    }
  }
}
