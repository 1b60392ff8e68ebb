import { createRedis, SearchCache } from '@marquee/cache';
import { parseEnv } from '@marquee/config';
import { createDb, EventRepository, ProviderRepository, SyncRunRepository } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { fetchPayload } from '@marquee/providers';
import { workerEnvSchema } from './env.schema.ts';
import { closeWorker, createIngestWorker } from './ingest.worker.ts';
import { createSyncProcessor } from './sync.processor.ts';

const env = parseEnv(workerEnvSchema);
const logger = createLogger({ service: 'worker', level: env.LOG_LEVEL });
const db = createDb({ databaseUrl: env.DATABASE_URL, maxConnections: env.WORKER_CONCURRENCY + 2 });
const queueRedis = createRedis(env.REDIS_URL, 'blocking');
const cacheRedis = createRedis(env.CACHE_REDIS_URL ?? env.REDIS_URL, 'blocking');

const processSync = createSyncProcessor({
  providers: new ProviderRepository(db),
  events: new EventRepository(db),
  syncRuns: new SyncRunRepository(db),
  cache: new SearchCache({ redis: cacheRedis, prefix: env.QUEUE_PREFIX, ttlSeconds: 0 }),
  fetch: fetchPayload,
  fetchOptions: {
    timeoutMs: env.FETCH_TIMEOUT_MS,
    maxBytes: env.FETCH_MAX_BYTES,
    userAgent: env.FETCH_USER_AGENT,
  },
  logger,
});
const worker = createIngestWorker({
  connection: queueRedis,
  prefix: env.QUEUE_PREFIX,
  concurrency: env.WORKER_CONCURRENCY,
  processSync,
  logger,
});

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  logger.info('shutting down', { signal });
  await closeWorker(worker, env.SHUTDOWN_TIMEOUT_MS, logger);
  await Promise.allSettled([db.$disconnect(), queueRedis.quit(), cacheRedis.quit()]);
  logger.info('stopped');
}
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    shutdown(signal).then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error('shutdown failed', { error: String(error) });
        process.exit(1);
      },
    );
  });
}

logger.info('worker started', { concurrency: env.WORKER_CONCURRENCY, prefix: env.QUEUE_PREFIX });
worker.run().catch((error: unknown) => {
  logger.error('worker stopped unexpectedly', { error: String(error) });
  process.exit(1);
});
