import { Redis } from 'ioredis';
import type { DbOptions } from '@marquee/db';
import { IngestQueue } from '@marquee/queue';
import { eventually } from './process.runner.ts';
import { startDatabaseStack, type DatabaseStack } from './database.stack.ts';
import { uniquePrefix } from './index.ts';
import { TEST_REDIS_URL } from './worker.harness.ts';

/**
 * What a test on the ingest queue runs against: a migrated database of its own, a blocking
 * connection to the shared Redis, a queue prefix of its own and the ingest queue under it.
 */
export interface QueueStack extends DatabaseStack {
  redis: Redis;
  prefix: string;
  queue: IngestQueue;
  /** Polls until job `jobId` has completed; its return value (a sync's summary). */
  completed(jobId: string, timeoutMs?: number): Promise<unknown>;
  /**
   * Removes the queue and every key under the prefix (host leases, robots.txt, breaker reports),
   * closes the connections and drops the database. Close what uses them first.
   */
  close(): Promise<void>;
}

export async function startQueueStack(
  label: string,
  dbOptions: Omit<DbOptions, 'databaseUrl'> = {},
): Promise<QueueStack> {
  const base = await startDatabaseStack(label, dbOptions);
  // As createRedis(…, 'blocking') makes it: what BullMQ needs of a connection it is given.
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const prefix = uniquePrefix(label);
  const queue = new IngestQueue({ connection: redis, prefix });
  return {
    ...base,
    redis,
    prefix,
    queue,
    completed: (jobId, timeoutMs) => completedJob(queue, jobId, timeoutMs),
    async close() {
      await queue.queue.obliterate({ force: true });
      await queue.close();
      const keys = await redis.keys(`${prefix}:*`);
      if (keys.length > 0) await redis.del(...keys);
      await redis.quit();
      await base.close();
    },
  };
}

/** Polls until job `jobId` of `queue` has completed; its return value. */
export function completedJob(
  queue: IngestQueue,
  jobId: string,
  timeoutMs = 30_000,
): Promise<unknown> {
  return eventually(
    async () => {
      if ((await queue.queue.getJobState(jobId)) !== 'completed') return undefined;
      // Read the job only once it is complete: a copy read earlier has no return value yet.
      return (await queue.queue.getJob(jobId))?.returnvalue as unknown;
    },
    timeoutMs,
    `job ${jobId} to complete`,
  );
}

/**
 * Enqueues a manual sync of `providerId` on a connection of its own to `redisUrl` (a Redis that
 * may have restarted since the last call) and waits for its completion.
 */
export async function syncOnce(
  redisUrl: string,
  prefix: string,
  providerId: string,
): Promise<unknown> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new IngestQueue({ connection, prefix });
  try {
    const job = await queue.enqueueSync({ providerId, trigger: 'manual' });
    return await completedJob(queue, job.id ?? '');
  } finally {
    await queue.close();
    await connection.quit();
  }
}

/** Removes the ingest queue under `prefix` that services run as processes used. */
export async function removeQueue(prefix: string, redisUrl = TEST_REDIS_URL): Promise<void> {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new IngestQueue({ connection, prefix });
  try {
    await queue.queue.obliterate({ force: true });
  } finally {
    await queue.close();
    await connection.quit();
  }
}
