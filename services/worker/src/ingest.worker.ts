import { UnrecoverableError, Worker, type ConnectionOptions } from 'bullmq';
import type { Logger } from '@marquee/logger';
import { isJobName, QUEUE_NAMES, type SyncJob } from '@marquee/queue';
import type { SyncSummary } from './sync.processor.ts';

export interface IngestWorkerOptions {
  connection: ConnectionOptions;
  prefix: string;
  concurrency: number;
  processSync: (job: SyncJob, token?: string) => Promise<SyncSummary>;
  logger: Logger;
}

/** The BullMQ worker of the "ingest" queue; jobs whose name is not in the catalog fail for good. */
export function createIngestWorker(options: IngestWorkerOptions): Worker {
  const worker = new Worker(
    QUEUE_NAMES.ingest,
    async (job, token) => {
      if (!isJobName(job.name)) throw new UnrecoverableError(`unknown job name "${job.name}"`);
      return options.processSync(job as SyncJob, token);
    },
    {
      connection: options.connection,
      prefix: options.prefix,
      concurrency: options.concurrency,
      autorun: false,
    },
  );
  worker.on('error', (error) => options.logger.error('worker error', { error: error.message }));
  worker.on('failed', (job, error) =>
    options.logger.warn('job failed', {
      jobId: job?.id,
      attemptsMade: job?.attemptsMade,
      error: error.message,
    }),
  );
  return worker;
}

/**
 * Stops taking jobs and waits for active ones up to `deadlineMs`; past it, closes without
 * waiting: the unfinished jobs keep no lock, so another worker's stalled-job check picks them
 * up again (their writes are idempotent). `worker.close()` alone would wait forever.
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
    logger.warn('shutdown deadline reached; handing active jobs back to the queue', { deadlineMs });
    await worker.close(true);
  }
}
