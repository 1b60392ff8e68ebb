import { randomUUID } from 'node:crypto';
import type { Db } from './prisma.client.ts';
import { StatementBatcher } from './statement.batcher.ts';
import type { FetchStateUpdate } from './fetch-state.repository.ts';
import type { Prisma, Provider, ProviderFetchState, SyncRun } from './generated/prisma/client.ts';

export type { SyncRun };

export interface SyncCounts {
  fetched: number;
  parsed: number;
  upserted: number;
  unchanged: number;
  rejected: number;
}

export interface RejectSample {
  key: string;
  reason: string;
}

/**
 * `skipped`: nothing was fetched because the provider's circuit breaker was open; `error` says
 * which breaker and when it next lets a probe through. `waiting`: the run stopped because the
 * provider rate-limited it (or the host was busy) and its job was put off, not failed: the job
 * runs again at `resumesAt` in a new run, from this one's checkpoint; `error` says why it waits.
 */
export const SYNC_RUN_STATUSES = ['running', 'succeeded', 'failed', 'skipped', 'waiting'] as const;
export type SyncRunStatus = (typeof SYNC_RUN_STATUSES)[number];

/**
 * Why a succeeded run was not applied as usual: `unchanged` (304 or same content hash: nothing
 * written), `shrunk` (events upserted, "last seen" not applied), `empty` (nothing written).
 */
export type SyncRunFlag = 'unchanged' | 'shrunk' | 'empty';

/** What a sync starts from (`SyncRunRepository.openRun`). */
export interface OpenedRun {
  /** The provider, as read by the statement that opened its run. */
  provider: Provider;
  /** The new run, `running`. */
  runId: string;
  /** Runs of the same job left `running` by a stopped or killed worker, now closed as failed. */
  interrupted: number;
  /** The provider's fetch state (its last applied payload), if it has one. */
  fetchState: ProviderFetchState | null;
  /**
   * The checkpoint an earlier run of the same job left (`saveCheckpoint`): where its walk of
   * pages resumes. Null for a new job or one whose runs left none. Read as stored: the worker
   * validates it.
   */
  checkpoint: unknown;
}

/** One run's end as `FINISH_SQL` reads it (one element of its JSON array). */
interface RunFinish extends SyncCounts {
  id: string;
  at: Date;
  flag: SyncRunFlag | null;
  rejects: readonly RejectSample[];
  truncated: boolean;
  error: string | null;
  /** With the provider: its fetch state becomes the payload below. */
  provider_id: string | null;
  etag: string | null;
  last_modified: string | null;
  content_hash: string | null;
  parsed_count: number;
  seen_marked_at: Date | null;
}

/**
 * Ends runs as succeeded, each with its counts, and saves the fetch state of those that applied a
 * payload; answers the ids of the runs it found.
 */
const FINISH_SQL = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb) AS i(id uuid, at timestamptz, flag text,
      fetched int, parsed int, upserted int, unchanged int, rejected int, rejects jsonb,
      truncated boolean, error text, provider_id uuid, etag text, last_modified text,
      content_hash text, parsed_count int, seen_marked_at timestamptz)
  ), save AS (
    INSERT INTO provider_fetch_states
      (provider_id, etag, last_modified, content_hash, parsed_count, seen_marked_at, updated_at)
    SELECT provider_id, etag, last_modified, content_hash, parsed_count, seen_marked_at, at
    FROM input WHERE provider_id IS NOT NULL
    ON CONFLICT (provider_id) DO UPDATE SET etag = EXCLUDED.etag,
      last_modified = EXCLUDED.last_modified, content_hash = EXCLUDED.content_hash,
      parsed_count = EXCLUDED.parsed_count, seen_marked_at = EXCLUDED.seen_marked_at,
      updated_at = EXCLUDED.updated_at
  )
  UPDATE sync_runs r SET status = 'succeeded', flag = i.flag, finished_at = i.at,
    fetched = i.fetched, parsed = i.parsed, upserted = i.upserted, unchanged = i.unchanged,
    rejected = i.rejected, rejects = i.rejects, truncated = i.truncated, error = i.error
  FROM input i WHERE r.id = i.id
  RETURNING r.id::text AS id`;

/** One run's start as `OPEN_SQL` reads it. */
interface RunOpen {
  provider_id: string;
  job_id: string | null;
  trigger: string;
  run_id: string;
  at: Date;
}

/** `openRun` for many runs: $1 their JSON array (with `n`, each one's index), $2 the reason. */
const OPEN_SQL = `
  WITH input AS (
    SELECT * FROM jsonb_to_recordset($1::jsonb)
      AS i(n int, provider_id uuid, job_id text, trigger text, run_id uuid, at timestamptz)
  ), p AS (
    SELECT i.n, i.job_id, i.trigger, i.run_id, i.at, pr.id, pr.name, pr.kind, pr.url,
      pr.every_seconds, pr.timezone, pr.config, pr.enabled, pr.created_at, pr.updated_at
    FROM input i JOIN providers pr ON pr.id = i.provider_id
  ), closed AS (
    UPDATE sync_runs r SET status = 'failed', finished_at = p.at, error = $2::text
    FROM p WHERE r.provider_id = p.id AND r.job_id = p.job_id AND r.status = 'running'
    RETURNING p.n
  ), run AS (
    INSERT INTO sync_runs (id, provider_id, job_id, trigger, status, started_at)
    SELECT run_id, id, job_id, trigger, 'running', at FROM p
    RETURNING id
  )
  SELECT p.n, p.run_id::text AS "runId",
    (SELECT count(*)::int FROM closed c WHERE c.n = p.n) AS interrupted,
    p.id::text AS "id", p.name, p.kind, p.url, p.every_seconds AS "everySeconds",
    p.timezone, p.config, p.enabled, p.created_at AS "createdAt", p.updated_at AS "updatedAt",
    (SELECT r.checkpoint FROM sync_runs r
      WHERE r.provider_id = p.id AND r.job_id = p.job_id AND r.checkpoint IS NOT NULL
      ORDER BY r.started_at DESC LIMIT 1) AS checkpoint,
    s.provider_id::text AS "stateOf", s.etag, s.last_modified AS "lastModified",
    s.content_hash AS "contentHash", s.parsed_count AS "parsedCount",
    s.seen_marked_at AS "seenMarkedAt", s.updated_at AS "stateUpdatedAt"
  FROM p LEFT JOIN provider_fetch_states s ON s.provider_id = p.id`;

const INTERRUPTED =
  'interrupted: the worker stopped or died during this sync; the job was run again';

/** The number of rejected items kept on a run for inspection; the count is always exact. */
export const REJECT_SAMPLE_SIZE = 50;

export class SyncRunRepository {
  /**
   * Runs of this process's syncs that end together are ended by one statement (group commit):
   * one commit instead of one per sync, each caller still answered once its run is stored.
   */
  private readonly finishes = new StatementBatcher((batch: RunFinish[]) => this.finishMany(batch));
  /** Likewise the runs of syncs that begin together (`openRun`). */
  private readonly opens = new StatementBatcher((batch: RunOpen[]) => this.openMany(batch));

  constructor(private readonly db: Db) {}

  start(providerId: string, trigger: string, jobId: string | undefined): Promise<SyncRun> {
    return this.db.syncRun.create({
      data: { providerId, trigger, jobId: jobId ?? null, status: 'running' },
    });
  }

  /**
   * `flag`: see SyncRunFlag; absent for a run applied as usual. `truncated`: a walk of pages
   * stopped at its `maxPages` while the payload said there was more. `reason`: why a flagged
   * run was not applied (kept in `error`, e.g. the items path that matched nothing). With
   * `applied`, the provider's fetch state becomes that payload in the same statement.
   */
  async succeed(
    id: string,
    counts: SyncCounts,
    rejects: readonly RejectSample[],
    flag?: SyncRunFlag,
    truncated = false,
    reason?: string,
    applied?: { providerId: string; state: FetchStateUpdate },
  ): Promise<void> {
    const state = applied?.state;
    const found = await this.finishes.submit({
      ...counts,
      id,
      at: new Date(),
      flag: flag ?? null,
      rejects: rejects.slice(0, REJECT_SAMPLE_SIZE),
      truncated,
      error: reason ?? null,
      provider_id: applied?.providerId ?? null,
      etag: state?.etag ?? null,
      last_modified: state?.lastModified ?? null,
      content_hash: state?.contentHash ?? null,
      parsed_count: state?.parsedCount ?? 0,
      seen_marked_at: state?.seenMarkedAt ?? null,
    });
    if (!found) throw new Error(`sync run ${id} not found`);
  }

  /** One statement ends every run in `finishes`: whether each was found. */
  private async finishMany(finishes: RunFinish[]): Promise<boolean[]> {
    const { rows } = await this.db.pool.query<{ id: string }>(FINISH_SQL, [
      JSON.stringify(finishes),
    ]);
    const done = new Set(rows.map((row) => row.id));
    return finishes.map((finish) => done.has(finish.id));
  }

  fail(id: string, error: string, counts: Partial<SyncCounts> = {}): Promise<SyncRun> {
    return this.end(id, 'failed', error, counts);
  }

  /**
   * The run's job was put off until `resumesAt` (a rate limit): not a failure, the job runs again
   * then in a new run. `counts`: what the run kept so far.
   */
  wait(
    id: string,
    reason: string,
    resumesAt: Date,
    counts: Partial<SyncCounts> = {},
  ): Promise<SyncRun> {
    return this.end(id, 'waiting', reason, { ...counts, resumesAt });
  }

  /**
   * Where the job's next attempt resumes its walk of pages. Call only once the rows of the pages
   * before it are committed: the checkpoint must never be ahead of the stored rows.
   */
  async saveCheckpoint(id: string, checkpoint: Prisma.InputJsonValue): Promise<void> {
    await this.db.syncRun.update({ where: { id }, data: { checkpoint } });
  }

  /**
   * Closes the runs of a job that failed for good while still marked running: its worker died
   * mid-sync and BullMQ failed the job without running it again (stalled too often), so no later
   * attempt's `openRun` closes them. Returns how many were closed.
   */
  async closeRunning(jobId: string, reason: string): Promise<number> {
    const { count } = await this.db.syncRun.updateMany({
      where: { jobId, status: 'running' },
      data: { status: 'failed', finishedAt: new Date(), error: `interrupted: ${reason}` },
    });
    return count;
  }

  /** The run did not happen (an open circuit breaker); `reason` is a sentence for operators. */
  skip(id: string, reason: string): Promise<SyncRun> {
    return this.end(id, 'skipped', reason);
  }

  /** Ends a run that did not succeed; `error` says why, `data` what it kept (and when it resumes). */
  private end(
    id: string,
    status: Exclude<SyncRunStatus, 'running' | 'succeeded'>,
    error: string,
    data: Partial<SyncCounts> & { resumesAt?: Date } = {},
  ): Promise<SyncRun> {
    return this.db.syncRun.update({
      where: { id },
      data: { ...data, status, finishedAt: new Date(), error },
    });
  }

  /**
   * A sync's first statement: reads the provider, closes runs of this job still marked running
   * (delivery is at least once: their worker was stopped or died mid-sync and the job is being
   * processed again), starts the new run and reads the provider's fetch state. One round trip,
   * shared by the syncs of this process that begin together: the CTEs share a snapshot, so the
   * closing UPDATE cannot see the runs the INSERT adds. Null when the provider no longer exists
   * (then nothing is written).
   */
  async openRun(
    providerId: string,
    trigger: string,
    jobId: string | undefined,
  ): Promise<OpenedRun | null> {
    const at = new Date();
    const row = await this.opens.submit({
      provider_id: providerId,
      job_id: jobId ?? null,
      trigger,
      run_id: randomUUID(),
      at,
    });
    if (!row) return null;
    const { runId, interrupted, checkpoint, stateOf, etag, lastModified, contentHash } = row;
    const { parsedCount, seenMarkedAt, stateUpdatedAt } = row;
    return {
      provider: providerOf(row),
      runId,
      interrupted,
      checkpoint,
      fetchState:
        stateOf === null
          ? null
          : {
              providerId: stateOf,
              etag,
              lastModified,
              contentHash,
              parsedCount: parsedCount ?? 0,
              seenMarkedAt,
              updatedAt: stateUpdatedAt ?? at,
            },
    };
  }

  /** One statement opens every run in `opens`: each one's row, or undefined without a provider. */
  private async openMany(opens: RunOpen[]): Promise<(OpenedRow | undefined)[]> {
    const { rows } = await this.db.pool.query<OpenedRow & { n: number }>(OPEN_SQL, [
      JSON.stringify(opens.map((open, n) => ({ ...open, n }))),
      INTERRUPTED,
    ]);
    const byIndex = new Map(rows.map((row) => [row.n, row]));
    return opens.map((_, n) => byIndex.get(n));
  }

  latest(providerId: string): Promise<SyncRun | null> {
    return this.db.syncRun.findFirst({ where: { providerId }, orderBy: { startedAt: 'desc' } });
  }

  findByJobId(jobId: string): Promise<SyncRun | null> {
    return this.db.syncRun.findFirst({ where: { jobId }, orderBy: { startedAt: 'desc' } });
  }
}

/** One row of `openRun`: the run, the provider's columns, its fetch state's (null without one). */
// A column added to `providers` fails to typecheck in providerOf until it is selected above.
type OpenedRow = Provider & {
  runId: string;
  interrupted: number;
  checkpoint: unknown;
  stateOf: string | null;
  etag: string | null;
  lastModified: string | null;
  contentHash: string | null;
  parsedCount: number | null;
  seenMarkedAt: Date | null;
  stateUpdatedAt: Date | null;
};

function providerOf(row: OpenedRow): Provider {
  const { id, name, kind, url, everySeconds, timezone, config, enabled, createdAt, updatedAt } =
    row;
  return { id, name, kind, url, everySeconds, timezone, config, enabled, createdAt, updatedAt };
}
