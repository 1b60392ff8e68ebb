import type { Db } from './prisma.client.ts';
import type { SyncRun } from './generated/prisma/client.ts';

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
 * Why a succeeded run was not applied as usual: `unchanged` (304 or same content hash: nothing
 * written), `shrunk` (events upserted, "last seen" not applied), `empty` (nothing written).
 */
export type SyncRunFlag = 'unchanged' | 'shrunk' | 'empty';

/** The number of rejected items kept on a run for inspection; the count is always exact. */
export const REJECT_SAMPLE_SIZE = 50;

export class SyncRunRepository {
  constructor(private readonly db: Db) {}

  start(providerId: string, trigger: string, jobId: string | undefined): Promise<SyncRun> {
    return this.db.syncRun.create({
      data: { providerId, trigger, jobId: jobId ?? null, status: 'running' },
    });
  }

  /** `flag`: see SyncRunFlag; absent for a run applied as usual. */
  succeed(
    id: string,
    counts: SyncCounts,
    rejects: readonly RejectSample[],
    flag?: SyncRunFlag,
  ): Promise<SyncRun> {
    return this.db.syncRun.update({
      where: { id },
      data: {
        ...counts,
        status: 'succeeded',
        flag: flag ?? null,
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
   * Closes runs of this job still marked running: their worker was stopped or died mid-sync and
   * the job is being processed again. Returns how many were closed.
   */
  async closeInterrupted(providerId: string, jobId: string): Promise<number> {
    const { count } = await this.db.syncRun.updateMany({
      where: { providerId, jobId, status: 'running' },
      data: {
        status: 'failed',
        finishedAt: new Date(),
        error: 'interrupted: the worker stopped or died during this sync; the job was run again',
      },
    });
    return count;
  }

  latest(providerId: string): Promise<SyncRun | null> {
    return this.db.syncRun.findFirst({ where: { providerId }, orderBy: { startedAt: 'desc' } });
  }

  findByJobId(jobId: string): Promise<SyncRun | null> {
    return this.db.syncRun.findFirst({ where: { jobId }, orderBy: { startedAt: 'desc' } });
  }
}
