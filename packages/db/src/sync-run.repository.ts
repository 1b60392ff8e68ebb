import { randomUUID } from 'node:crypto';
import type { Db } from './prisma.client.ts';
import type { Prisma, ProviderFetchState, SyncRun } from './generated/prisma/client.ts';

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
 * which breaker and when it next lets a probe through.
 */
export type SyncRunStatus = 'running' | 'succeeded' | 'failed' | 'skipped';

/**
 * Why a succeeded run was not applied as usual: `unchanged` (304 or same content hash: nothing
 * written), `shrunk` (events upserted, "last seen" not applied), `empty` (nothing written).
 */
export type SyncRunFlag = 'unchanged' | 'shrunk' | 'empty';

/** What a sync starts from (`SyncRunRepository.openRun`). */
export interface OpenedRun {
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

const INTERRUPTED =
  'interrupted: the worker stopped or died during this sync; the job was run again';

/** The number of rejected items kept on a run for inspection; the count is always exact. */
export const REJECT_SAMPLE_SIZE = 50;

export class SyncRunRepository {
  constructor(private readonly db: Db) {}

  start(providerId: string, trigger: string, jobId: string | undefined): Promise<SyncRun> {
    return this.db.syncRun.create({
      data: { providerId, trigger, jobId: jobId ?? null, status: 'running' },
    });
  }

  /**
   * `flag`: see SyncRunFlag; absent for a run applied as usual. `truncated`: a walk of pages
   * stopped at its `maxPages` while the payload said there was more. `reason`: why a flagged
   * run was not applied (kept in `error`, e.g. the items path that matched nothing).
   */
  succeed(
    id: string,
    counts: SyncCounts,
    rejects: readonly RejectSample[],
    flag?: SyncRunFlag,
    truncated = false,
    reason?: string,
  ): Promise<SyncRun> {
    return this.db.syncRun.update({
      where: { id },
      data: {
        ...counts,
        status: 'succeeded',
        flag: flag ?? null,
        truncated,
        error: reason ?? null,
        finishedAt: new Date(),
        rejects: rejects.slice(0, REJECT_SAMPLE_SIZE).map((reject) => ({ ...reject })),
      },
    });
  }

  fail(id: string, error: string, counts: Partial<SyncCounts> = {}): Promise<SyncRun> {
    return this.db.syncRun.update({
      where: { id },
      data: { ...counts, status: 'failed', finishedAt: new Date(), error },
    });
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
    return this.db.syncRun.update({
      where: { id },
      data: { status: 'skipped', finishedAt: new Date(), error: reason },
    });
  }

  /**
   * A sync's first statement: closes runs of this job still marked running (delivery is at least
   * once: their worker was stopped or died mid-sync and the job is being processed again), starts
   * the new run and reads the provider's fetch state. One round trip: the CTEs share a snapshot,
   * so the closing UPDATE cannot see the run the INSERT adds.
   */
  async openRun(
    providerId: string,
    trigger: string,
    jobId: string | undefined,
  ): Promise<OpenedRun> {
    const at = new Date();
    const rows = await this.db.$queryRaw<
      ({ runId: string; interrupted: number; checkpoint: unknown } & Partial<ProviderFetchState>)[]
    >`
      WITH closed AS (
        UPDATE sync_runs SET status = 'failed', finished_at = ${at}, error = ${INTERRUPTED}
        WHERE provider_id = ${providerId}::uuid AND job_id = ${jobId ?? null}::text
          AND status = 'running'
        RETURNING 1
      ), run AS (
        INSERT INTO sync_runs (id, provider_id, job_id, trigger, status, started_at)
        VALUES (${randomUUID()}::uuid, ${providerId}::uuid, ${jobId ?? null}::text, ${trigger},
          'running', ${at})
        RETURNING id
      )
      SELECT run.id::text AS "runId", (SELECT count(*)::int FROM closed) AS interrupted,
        (SELECT r.checkpoint FROM sync_runs r
          WHERE r.provider_id = ${providerId}::uuid AND r.job_id = ${jobId ?? null}::text
            AND r.checkpoint IS NOT NULL
          ORDER BY r.started_at DESC LIMIT 1) AS checkpoint,
        s.provider_id::text AS "providerId", s.etag, s.last_modified AS "lastModified",
        s.content_hash AS "contentHash", s.parsed_count AS "parsedCount",
        s.seen_marked_at AS "seenMarkedAt", s.updated_at AS "updatedAt"
      FROM run LEFT JOIN provider_fetch_states s ON s.provider_id = ${providerId}::uuid`;
    const row = rows[0];
    if (!row) throw new Error('sync run insert returned no row');
    const { runId, interrupted, checkpoint, providerId: stateOf, ...state } = row;
    return {
      runId,
      interrupted,
      checkpoint,
      fetchState:
        stateOf === undefined || stateOf === null
          ? null
          : ({ providerId: stateOf, ...state } as ProviderFetchState),
    };
  }

  latest(providerId: string): Promise<SyncRun | null> {
    return this.db.syncRun.findFirst({ where: { providerId }, orderBy: { startedAt: 'desc' } });
  }

  findByJobId(jobId: string): Promise<SyncRun | null> {
    return this.db.syncRun.findFirst({ where: { jobId }, orderBy: { startedAt: 'desc' } });
  }
}
