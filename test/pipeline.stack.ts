// The stack the pipeline tests run against, through the real parts: a database of their own,
// Redis under a queue prefix of their own, the ingest queue and its events, the worker runtime
// (createWorkerRuntime, as main.ts builds it) with a running worker, and the api app on a port.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { QueueEvents, type JobsOptions, type Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { createApp } from '@marquee/api';
import { SearchCache } from '@marquee/cache';
import { parseEnv } from '@marquee/config';
import { EventRepository, type Db } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { QUEUE_NAMES } from '@marquee/queue';
import { startQueueStack, workerTestEnv, type QueueStack } from '@marquee/testing';
import {
  createWorkerRuntime,
  workerEnvSchema,
  type SyncSummary,
  type WorkerRuntime,
  type WorkerRuntimeOverrides,
} from '@marquee/worker';

interface PipelineStackOptions {
  /** Names the database, the queue prefix and the logger. */
  label: string;
  /** Worker variables on top of workerTestEnv's (FETCH_USER_AGENT and a 5 s timeout are set). */
  workerEnv?: Record<string, string>;
  /** createWorkerRuntime overrides besides the shared clients (a clock, fetch links). */
  runtime?: Omit<WorkerRuntimeOverrides, 'db' | 'redis' | 'logger'>;
  /** Serve the api app (searches through the cache); off for tests that read the database. */
  api?: boolean;
}

export interface PipelineStack extends QueueStack {
  /** The search cache the api answers through (its catalog version moves with ingests). */
  cache: SearchCache;
  runtime: WorkerRuntime;
  /** The api's base URL; empty without `api`. */
  apiUrl: string;
  /** Enqueues a manual sync (one attempt unless `options` say more) and waits for its summary. */
  sync(provider: { id: string }, options?: JobsOptions, timeoutMs?: number): Promise<SyncSummary>;
  /** Closes everything it opened and removes its keys, queue and database. */
  close(): Promise<void>;
}

export async function startPipelineStack(options: PipelineStackOptions): Promise<PipelineStack> {
  const logger = createLogger({ service: `${options.label}-test`, level: 'error' });
  const base = await startQueueStack(options.label);
  const { database, db, redis, prefix, queue } = base;
  const eventsRedis = redis.duplicate();
  const queueEvents = new QueueEvents(QUEUE_NAMES.ingest, { connection: eventsRedis, prefix });
  await queueEvents.waitUntilReady();
  const env = workerTestEnv(database.url, prefix, {
    FETCH_TIMEOUT_MS: '5000',
    FETCH_USER_AGENT: 'marquee-test',
    ...options.workerEnv,
  });
  const runtime = createWorkerRuntime(parseEnv(workerEnvSchema, env), {
    ...options.runtime,
    logger,
    db,
    redis,
  });
  const worker: Worker = runtime.createWorker();
  void worker.run();
  const cache = new SearchCache({ redis, prefix, ttlSeconds: 60 });
  const api = options.api ? await serveApi(db, redis, cache, logger) : undefined;

  return {
    ...base,
    cache,
    runtime,
    apiUrl: api?.url ?? '',
    async sync(provider, jobOptions = { attempts: 1 }, timeoutMs = 20_000) {
      const job = await queue.enqueueSync(
        { providerId: provider.id, trigger: 'manual' },
        jobOptions,
      );
      return (await job.waitUntilFinished(queueEvents, timeoutMs)) as SyncSummary;
    },
    async close() {
      await worker.close();
      await runtime.close();
      await queueEvents.close();
      await api?.close();
      // BullMQ leaves connections it was given open.
      await eventsRedis.quit();
      await base.close();
    },
  };
}

async function serveApi(
  db: Db,
  redis: Redis,
  cache: SearchCache,
  logger: ReturnType<typeof createLogger>,
): Promise<{ url: string; close(): Promise<void> }> {
  const app = createApp({
    events: new EventRepository(db),
    cache,
    logger,
    checks: {
      database: async () => void (await db.$queryRaw`SELECT 1`),
      redis: async () => void (await redis.ping()),
    },
  });
  const server = createServer(app).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
