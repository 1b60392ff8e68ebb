import { Queue, type Job, type JobsOptions } from 'bullmq';
import type { Cluster, Redis } from 'ioredis';
import { parsePayload, QUEUE_NAMES, type JobPayload } from './job.catalog.ts';
import { SyncLock } from './sync.lock.ts';

export interface QueueOptions {
  /** A client of its own or shared; the sync lock (SyncLock) runs its scripts on it too. */
  connection: Redis | Cluster;
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

/** A provider's Job Scheduler as the queue holds it. */
export interface ScheduleInfo {
  /** The scheduler's id (`sync-<provider name>`, or a pre-0.2 `provider-<uuid>`). */
  id: string;
  providerId: string;
  /** The provider's name in the scheduler's job template; undefined on pre-0.2 schedulers. */
  providerName: string | undefined;
  everyMs: number;
  /** Id of the delayed job that makes the next run, when the scheduler has one. */
  nextJobId: string | undefined;
}

/** Jobs of the queue by state; `delayedDue` are delayed jobs whose time has come. */
export interface QueueDepth {
  /** Waiting and prioritized: ready for a worker. */
  waiting: number;
  active: number;
  /** Delayed jobs due by `now` (retries, rate-limit waits, scheduler runs not yet picked up). */
  delayedDue: number;
  /** Delayed jobs due later: mostly the next run of each Job Scheduler. */
  delayedLater: number;
  failed: number;
}

const SCHEDULE_PREFIX = 'sync-';
/** Schedulers of releases that named them after the provider's id; reconcile replaces them. */
const LEGACY_SCHEDULE = /^provider-([0-9a-f-]{36})$/;

/** Typed producer side of the "ingest" queue: manual syncs and per-provider Job Schedulers. */
export class IngestQueue {
  readonly queue: Queue;
  readonly syncLock: SyncLock;

  constructor({ connection, prefix }: QueueOptions) {
    this.queue = new Queue(QUEUE_NAMES.ingest, { connection, prefix });
    this.syncLock = new SyncLock(this.queue, connection);
  }

  /**
   * The job of the provider's sync that a manual sync joins instead of starting another: the
   * one going on (SyncLock), else its scheduled run that is due and not yet taken.
   */
  async pendingSync(provider: { id: string; name: string }): Promise<string | undefined> {
    const owner = await this.syncLock.pendingOwner(provider.id);
    if (owner !== undefined) return owner;
    const scheduler = await this.queue.getJobScheduler(IngestQueue.scheduleId(provider.name));
    if (scheduler?.next === undefined || scheduler.next > Date.now()) return undefined;
    const due = `repeat:${scheduler.key}:${scheduler.next}`;
    const state = await this.queue.getJobState(due);
    return ['waiting', 'prioritized', 'delayed', 'active'].includes(state) ? due : undefined;
  }

  /**
   * A manual sync; while one of the provider is queued or running, the same job is returned
   * (BullMQ deduplication until it completes or fails), so two `sync` commands make one sync.
   */
  enqueueManualSync(provider: { id: string; name: string }): Promise<SyncJob> {
    return this.enqueueSync(
      { providerId: provider.id, provider: provider.name, trigger: 'manual' },
      { deduplication: { id: `manual-sync-${provider.id}` } },
    );
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

  /**
   * The Job Scheduler of a provider is named after it, so Bull Board and its job ids
   * (`repeat:sync-acme:<time>`) say whose it is. BullMQ separates the parts of those ids with
   * `:`, so a `:` in a name is escaped (`%3A`, and `%` as `%25` to keep names apart); the prefix
   * keeps an all-digit name from looking like a job number.
   */
  static scheduleId(providerName: string): string {
    return SCHEDULE_PREFIX + providerName.replace(/%/g, '%25').replace(/:/g, '%3A');
  }

  /** Creates or updates the provider's Job Scheduler; idempotent. */
  async upsertSchedule(provider: { id: string; name: string; everySeconds: number }) {
    const data = parsePayload('provider.sync', {
      providerId: provider.id,
      provider: provider.name,
      trigger: 'schedule',
    });
    await this.queue.upsertJobScheduler(
      IngestQueue.scheduleId(provider.name),
      { every: provider.everySeconds * 1000 },
      { name: 'provider.sync', data, opts: SYNC_JOB_OPTIONS },
    );
  }

  async removeSchedule(scheduleId: string): Promise<boolean> {
    return this.queue.removeJobScheduler(scheduleId);
  }

  /** Every provider Job Scheduler, current and pre-0.2 ones alike. */
  async listSchedules(): Promise<ScheduleInfo[]> {
    const schedulers = await this.queue.getJobSchedulers(0, -1);
    return schedulers.flatMap((scheduler): ScheduleInfo[] => {
      const data = (scheduler.template?.data ?? {}) as { providerId?: unknown; provider?: unknown };
      const legacy = LEGACY_SCHEDULE.exec(scheduler.key)?.[1];
      const providerId = typeof data.providerId === 'string' ? data.providerId : legacy;
      if (!providerId || (!legacy && !scheduler.key.startsWith(SCHEDULE_PREFIX))) return [];
      return [
        {
          id: scheduler.key,
          providerId,
          providerName: typeof data.provider === 'string' ? data.provider : undefined,
          everyMs: Number(scheduler.every ?? 0),
          nextJobId:
            scheduler.next === undefined ? undefined : `repeat:${scheduler.key}:${scheduler.next}`,
        },
      ];
    });
  }

  /** Job counts for operators; `delayedDue` counts delayed jobs due at `now` or before. */
  async depth(now = Date.now()): Promise<QueueDepth> {
    const [counts, due] = await Promise.all([
      this.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed'),
      this.queue.getDelayedCount(now + 1),
    ]);
    const delayed = counts.delayed ?? 0;
    return {
      waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
      active: counts.active ?? 0,
      delayedDue: Math.min(due, delayed),
      delayedLater: Math.max(0, delayed - due),
      failed: counts.failed ?? 0,
    };
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
