import { Queue, type ConnectionOptions, type Job, type JobsOptions } from 'bullmq';
import { parsePayload, QUEUE_NAMES, type JobPayload } from './job.catalog.ts';

export interface QueueOptions {
  connection: ConnectionOptions;
  prefix: string;
}

/** Retries for transient failures; permanent ones skip them (UnrecoverableError in the worker). */
export const SYNC_JOB_OPTIONS: JobsOptions = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 5_000, jitter: 0.5 },
  // Bounded history: enough to inspect, never an unbounded Redis.
  removeOnComplete: { age: 7 * 24 * 3600, count: 1_000 },
  removeOnFail: { age: 30 * 24 * 3600, count: 5_000 },
};

export type SyncJob = Job<JobPayload<'provider.sync'>, unknown, 'provider.sync'>;

export interface ScheduleInfo {
  id: string;
  providerId: string;
  everyMs: number;
}

const SCHEDULE_PREFIX = 'provider-';

/** Typed producer side of the "ingest" queue: manual syncs and per-provider Job Schedulers. */
export class IngestQueue {
  readonly queue: Queue;

  constructor({ connection, prefix }: QueueOptions) {
    this.queue = new Queue(QUEUE_NAMES.ingest, { connection, prefix });
  }

  async enqueueSync(
    payload: JobPayload<'provider.sync'>,
    options: JobsOptions = {},
  ): Promise<SyncJob> {
    const data = parsePayload('provider.sync', payload);
    return (await this.queue.add('provider.sync', data, {
      ...SYNC_JOB_OPTIONS,
      ...options,
    })) as SyncJob;
  }

  static scheduleId(providerId: string): string {
    return `${SCHEDULE_PREFIX}${providerId}`;
  }

  /** Creates or updates the provider's Job Scheduler; idempotent. */
  async upsertSchedule(providerId: string, everySeconds: number): Promise<void> {
    const data = parsePayload('provider.sync', { providerId, trigger: 'schedule' });
    await this.queue.upsertJobScheduler(
      IngestQueue.scheduleId(providerId),
      { every: everySeconds * 1000 },
      { name: 'provider.sync', data, opts: SYNC_JOB_OPTIONS },
    );
  }

  async removeSchedule(providerId: string): Promise<boolean> {
    return this.queue.removeJobScheduler(IngestQueue.scheduleId(providerId));
  }

  async listSchedules(): Promise<ScheduleInfo[]> {
    const schedulers = await this.queue.getJobSchedulers(0, -1);
    return schedulers
      .filter((scheduler) => scheduler.key.startsWith(SCHEDULE_PREFIX))
      .map((scheduler) => ({
        id: scheduler.key,
        providerId: scheduler.key.slice(SCHEDULE_PREFIX.length),
        everyMs: Number(scheduler.every ?? 0),
      }));
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
