import { UnrecoverableError, Worker, type ConnectionOptions, type Job } from 'bullmq';
import { throttledLog, type Logger } from '@marquee/logger';
import { isJobName, QUEUE_NAMES, type SyncJob } from '@marquee/queue';
import { logFailedJob } from './sync-failure.error.ts';
import type { ProcessSync } from './sync.pipeline.ts';

export interface IngestWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  /** BullMQ lock duration and stalled-job check interval (defaults: BullMQ's, 30 s each). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  processSync: ProcessSync;
  logger: Logger;
}

/** Jobs each worker is processing, with their lock tokens: what a shutdown hands back. */
const activeJobs = new WeakMap<Worker, Map<string, { job: Job; token: string }>>();

/** The BullMQ worker of the "ingest" queue; jobs whose name is not in the catalog fail for good. */
export function createIngestWorker(options: IngestWorkerOptions): Worker {
  const active = new Map<string, { job: Job; token: string }>();
  const worker = new Worker(
    QUEUE_NAMES.ingest,
    async (job, token) => {
      if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job name "${job.name}"`);
      const key = `${job.id}:${token}`;
      if (token) active.set(key, { job, token });
      try {
        return await options.processSync(job as SyncJob, token);
      } finally {
        active.delete(key);
      }
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      ...(options.lockDurationMs !== undefined && { lockDuration: options.lockDurationMs }),
      ...(options.stalledIntervalMs !== undefined && {
        stalledInterval: options.stalledIntervalMs,
      }),
      autorun: false,
    },
  );
  activeJobs.set(worker, active);
  // While Redis is down, each of BullMQ's connections reports every reconnection attempt.
  worker.on('error', throttledLog(options.logger, 'error', 'worker error'));
  // The one log line of each failure (the sync pipeline logs none): BullMQ has moved the job
  // by now, so the line can say when it is retried.
  worker.on('failed', (job, error) => logFailedJob(options.logger, job, error));
  return worker;
}

/**
 * Stops taking jobs and waits for active ones up to `deadlineMs`; past it, hands each unfinished
 * job back (moved to delayed with no delay, so it is waiting again at once, no attempt spent) and
 * returns without waiting: the caller exits. Their writes are idempotent, so the next run leaves
 * the same state. A job that cannot be handed back (Redis unreachable) is picked up by another
 * worker's stalled-job check once its lock expires. `worker.close()` alone would wait forever,
 * and a second `close(true)` returns the first call's promise, so it cannot cut the wait short.
 */
export async function closeWorker(
  worker: Worker,
  deadlineMs: number,
  logger: Logger,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'deadline'>((resolve) => {
    timer = setTimeout(() => resolve('deadline'), deadlineMs);
  });
  const outcome = await Promise.race([worker.close().then(() => 'closed' as const), deadline]);
  clearTimeout(timer);
  if (outcome === 'deadline') {
    const unfinished = [...(activeJobs.get(worker)?.values() ?? [])];
    logger.warn('shutdown deadline reached; handing active jobs back to the queue', {
      deadlineMs,
      jobs: unfinished.map(({ job }) => job.id),
    });
    const results = await Promise.allSettled(
      unfinished.map(({ job, token }) => job.moveToDelayed(Date.now(), token)),
    );
    results.forEach((result, index) => {
      if (result.status === 'rejected') {
        logger.warn('could not hand a job back; it will be picked up as stalled', {
          jobId: unfinished[index]?.job.id,
          error: String(result.reason),
        });
      }
    });
  }
}
