import { SearchCache } from '@marquee/cache';
import { parseEnv } from '@marquee/config';
import {
  createDb,
  EventRepository,
  FetchStateRepository,
  ProviderRepository,
  SyncRunRepository,
} from '@marquee/db';
import { BreakerRegistry, fetchPayload, HostLeaseGate, RobotsGuard } from '@marquee/fetch';
import { onShutdownSignal } from '@marquee/lifecycle';
import { createLogger } from '@marquee/logger';
import { createMetricsRegistry, registerBuildInfo, startOpsServerOrReport } from '@marquee/metrics';
import { writeBreakerStatus } from '@marquee/provider-status';
import { createRedis } from '@marquee/redis';
import { workerEnvSchema } from './env.schema.ts';
import { closeWorker, createIngestWorker } from './ingest.worker.ts';
import { registerSyncMetrics } from './sync.metrics.ts';
import { createSyncProcessor } from './sync.processor.ts';

const env = parseEnv(workerEnvSchema);
const logger = createLogger({ service: 'worker', level: env.LOG_LEVEL });
const db = createDb({ databaseUrl: env.DATABASE_URL, maxConnections: env.WORKER_CONCURRENCY + 2 });
const queueRedis = createRedis(env.REDIS_URL, 'blocking');
const cacheRedis = createRedis(env.CACHE_REDIS_URL ?? env.REDIS_URL, 'blocking');

const registry = createMetricsRegistry('worker');
registerBuildInfo(registry);
const syncMetrics = registerSyncMetrics(registry);
const providers = new ProviderRepository(db);

const breakers = new BreakerRegistry(
  {
    timeoutMs: env.BREAKER_TIMEOUT_MS,
    errorThresholdPercentage: env.BREAKER_ERROR_THRESHOLD_PERCENT,
    volumeThreshold: env.BREAKER_VOLUME_THRESHOLD,
    resetTimeoutMs: env.BREAKER_RESET_TIMEOUT_MS,
    windowMs: env.BREAKER_WINDOW_MS,
  },
  (providerId, status) => {
    syncMetrics.breakerChanged(providerId, status.state);
    return writeBreakerStatus(queueRedis, env.QUEUE_PREFIX, providerId, status);
  },
  logger,
);

const fetchOptions = {
  timeoutMs: env.FETCH_TIMEOUT_MS,
  maxBytes: env.FETCH_MAX_BYTES,
  userAgent: env.FETCH_USER_AGENT,
  connectTimeoutMs: env.FETCH_CONNECT_TIMEOUT_MS,
  addressPolicy: { allowPrivate: env.ALLOW_PRIVATE_PROVIDERS },
};
// A lease outlives the fetch's whole deadline, so only a dead worker's lease ever expires.
const hostGate = new HostLeaseGate(queueRedis, env.QUEUE_PREFIX, {
  concurrency: env.POLITE_HOST_CONCURRENCY,
  minDelayMs: env.POLITE_MIN_DELAY_MS,
  leaseTtlMs: env.FETCH_TIMEOUT_MS + 5_000,
  maxWaitMs: env.POLITE_MAX_WAIT_MS,
});
const robots = new RobotsGuard(
  queueRedis,
  env.QUEUE_PREFIX,
  (url) => hostGate.around(url, () => fetchPayload(url, fetchOptions)),
  { userAgent: env.FETCH_USER_AGENT, ttlSeconds: env.ROBOTS_TTL_SECONDS },
);

const processSync = createSyncProcessor({
  providers,
  events: new EventRepository(db),
  syncRuns: new SyncRunRepository(db),
  cache: new SearchCache({ redis: cacheRedis, prefix: env.QUEUE_PREFIX, ttlSeconds: 0 }),
  fetch: fetchPayload,
  fetchOptions,
  breakers,
  fetchState: new FetchStateRepository(db),
  shrinkGuardRatio: env.SHRINK_GUARD_RATIO,
  hostGate,
  robots,
  logger,
});
const worker = createIngestWorker({
  connection: queueRedis,
  prefix: env.QUEUE_PREFIX,
  concurrency: env.WORKER_CONCURRENCY,
  lockDurationMs: env.WORKER_LOCK_DURATION_MS,
  stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
  processSync: syncMetrics.instrument(
    processSync,
    async (id) => (await providers.findById(id))?.name,
  ),
  logger,
});
syncMetrics.countDeadLetters(worker);

// A port clash must not stop ingestion.
const ops = await startOpsServerOrReport(
  {
    registry,
    port: env.METRICS_PORT,
    checks: { database: () => db.$queryRaw`SELECT 1`, redis: () => queueRedis.ping() },
  },
  (error) =>
    logger.error('metrics server cannot listen', { port: env.METRICS_PORT, error: String(error) }),
);

onShutdownSignal(logger, async () => {
  await closeWorker(worker, env.SHUTDOWN_TIMEOUT_MS, logger);
  breakers.shutdown();
  await ops?.close();
  await Promise.allSettled([db.$disconnect(), queueRedis.quit(), cacheRedis.quit()]);
});

logger.info('worker started', {
  concurrency: env.WORKER_CONCURRENCY,
  prefix: env.QUEUE_PREFIX,
  metricsPort: ops?.port,
});
worker.run().catch((error: unknown) => {
  logger.error('worker stopped unexpectedly', { error: String(error) });
  process.exit(1);
});
