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

/** The number of rejected items kept on a run for inspection; the count is always exact. */
export const REJECT_SAMPLE_SIZE = 50;

export class SyncRunRepository {
  constructor(private readonly db: Db) {}

  start(providerId: string, trigger: string, jobId: string | undefined): Promise<SyncRun> {
    return this.db.syncRun.create({
      data: { providerId, trigger, jobId: jobId ?? null, status: 'running' },
    });
  }

  succeed(id: string, counts: SyncCounts, rejects: readonly RejectSample[]): Promise<SyncRun> {
    return this.db.syncRun.update({
      where: { id },
      data: {
        ...counts,
        status: 'succeeded',
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

  latest(providerId: string): Promise<SyncRun | null> {
    return this.db.syncRun.findFirst({ where: { providerId }, orderBy: { startedAt: 'desc' } });
  }

  findByJobId(jobId: string): Promise<SyncRun | null> {
    return this.db.syncRun.findFirst({ where: { jobId }, orderBy: { startedAt: 'desc' } });
  }
}
