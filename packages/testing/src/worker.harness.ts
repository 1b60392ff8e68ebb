import { randomUUID } from 'node:crypto';
import { DelayedError, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { QUEUE_NAMES, type IngestQueue, type SyncJob } from '@marquee/queue';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379/0';

/**
 * The environment of a worker under test (parse it with the worker's schema, or pass it to a
 * worker process): its own database and queue prefix, loopback providers allowed, quiet logs, a
 * free metrics port, and no spacing between requests to one host (every stand-in provider is on
 * 127.0.0.1). `extra` overrides any of them.
 */
export function workerTestEnv(
  databaseUrl: string,
  prefix: string,
  extra: NodeJS.ProcessEnv = {},
): NodeJS.ProcessEnv {
  return {
    DATABASE_URL: databaseUrl,
    REDIS_URL: TEST_REDIS_URL,
    QUEUE_PREFIX: prefix,
    ALLOW_PRIVATE_PROVIDERS: 'true',
    LOG_LEVEL: 'error',
    METRICS_PORT: '0',
    POLITE_MIN_DELAY_MS: '0',
    ...extra,
  };
}

/** workerTestEnv for a spawned worker process (or any service beside it): with PATH and HOME. */
export const workerProcessEnv: typeof workerTestEnv = (...args) => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  ...workerTestEnv(...args),
});

/** What BullMQ does with a job after the processor returned or threw. */
export type JobOutcome<T> =
  | { kind: 'completed'; summary: T }
  | { kind: 'unrecoverable' | 'transient'; error: Error }
  | { kind: 'delayed'; delayedUntil: number; attemptsMade: number };

export type JobProcessor<T> = (job: SyncJob, token?: string) => Promise<T>;

/**
 * Runs a processor on one real job at a time, as a BullMQ worker would, and reports what it
 * threw: each sync is enqueued, taken with a lock token, processed, then completed, failed or
 * left delayed, and removed. A test sees exactly what the processor hands BullMQ.
 */
export class JobRunner {
  private readonly connection: Redis;
  private readonly puller: Worker;

  constructor(
    private readonly queue: IngestQueue,
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.connection = redis.duplicate();
    this.puller = new Worker(QUEUE_NAMES.ingest, null, { connection: this.connection, prefix });
  }

  async run<T>(
    providerId: string,
    process: JobProcessor<T>,
  ): Promise<{ outcome: JobOutcome<T>; jobId: string }> {
    const added = await this.queue.enqueueSync({ providerId, trigger: 'manual' });
    const jobId = added.id ?? '';
    const token = randomUUID();
    const job = (await this.puller.getNextJob(token)) as Job | undefined;
    if (job?.id !== jobId) throw new Error(`expected job ${jobId}, took ${job?.id}`);
    const outcome = await this.settle(job as SyncJob & Job, token, process);
    await this.queue.queue.remove(jobId);
    return { outcome, jobId };
  }

  private async settle<T>(
    job: SyncJob & Job,
    token: string,
    process: JobProcessor<T>,
  ): Promise<JobOutcome<T>> {
    try {
      const summary = await process(job, token);
      await job.moveToCompleted(summary, token, false);
      return { kind: 'completed', summary };
    } catch (error) {
      if (error instanceof DelayedError) {
        const delayed = await this.queue.queue.getJob(job.id ?? '');
        const state = await delayed?.getState();
        if (state !== 'delayed')
          throw new Error(`job ${job.id} threw DelayedError but is ${state}`);
        // The job's `delay` counts from the move, not from `timestamp` (its creation), so the
        // due time is read from the delayed set's score (milliseconds × 0x1000 + a counter).
        const score = await this.redis.zscore(this.queue.queue.toKey('delayed'), job.id ?? '');
        return {
          kind: 'delayed',
          delayedUntil: Math.floor(Number(score) / 0x1000),
          attemptsMade: delayed?.attemptsMade ?? -1,
        };
      }
      await job.moveToFailed(error as Error, token, false);
      const kind = error instanceof UnrecoverableError ? 'unrecoverable' : 'transient';
      return { kind, error: error as Error };
    }
  }

  async close(): Promise<void> {
    await this.puller.close();
    await this.connection.quit();
  }
}
