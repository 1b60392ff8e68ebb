import { randomUUID } from 'node:crypto';
import { catalogVersionBump } from '@marquee/cache';
import { parseEnv } from '@marquee/config';
import {
  ChangeRepository,
  createDb,
  ProviderRepository,
  ProviderStatusRepository,
  WebhookRepository,
} from '@marquee/db';
import { onShutdownSignal } from '@marquee/lifecycle';
import { createLogger, throttledLog } from '@marquee/logger';
import {
  createMetricsRegistry,
  registerBuildInfo,
  registerQueueDepthGauge,
  startOpsServerOrReport,
} from '@marquee/metrics';
import { IngestQueue, WebhookQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { createWebhookDispatcher, registerBacklogMetric } from '@marquee/webhooks';
import { catalogVersionBumper } from './catalog-version.bumper.ts';
import { registerChangeFeedMetrics } from './change-feed.metrics.ts';
import { SCHEDULER_DB_POOL_MAX, schedulerEnvSchema } from './env.schema.ts';
import { LeaderLease } from './leader.lease.ts';
import { startLeaderLoop } from './leader.loop.ts';
import { listenForProviderChanges } from './provider-change.listener.ts';
import { registerProviderMetrics } from './provider.metrics.ts';
import { ProviderScheduler } from './provider.scheduler.ts';

const env = parseEnv(schedulerEnvSchema);
const logger = createLogger({ service: 'scheduler', level: env.LOG_LEVEL });
const db = createDb({ databaseUrl: env.DATABASE_URL, maxConnections: SCHEDULER_DB_POOL_MAX });
const redis = createRedis(env.REDIS_URL, 'blocking');
// While Redis is down the client and BullMQ's queues report every reconnection attempt; without
// a listener each one is written raw to stderr.
const onRedisError = throttledLog(logger, 'warn', 'redis unavailable');
redis.on('error', onRedisError);
const queue = new IngestQueue({ connection: redis, prefix: env.QUEUE_PREFIX });
queue.queue.on('error', onRedisError);
const leaseMs = env.LEADER_LEASE_SECONDS * 1000;
const scheduler = new ProviderScheduler({
  providers: new ProviderRepository(db),
  queue,
  lease: new LeaderLease(redis, `${env.QUEUE_PREFIX}:scheduler:leader`, randomUUID(), leaseMs),
  logger,
  tickMs: Math.floor(leaseMs / 3),
  reconcileIntervalMs: env.RECONCILE_INTERVAL_SECONDS * 1000,
});
// The cache's Redis (its catalog version), as the worker bumps it: a bump asked while Redis is
// down waits for it to come back rather than fail.
const cacheRedis = createRedis(env.CACHE_REDIS_URL ?? env.REDIS_URL, 'blocking');
cacheRedis.on('error', onRedisError);
const bumpCatalogVersion = catalogVersionBumper(
  catalogVersionBump(cacheRedis, env.QUEUE_PREFIX),
  logger,
);
const listener = listenForProviderChanges(
  env.DATABASE_URL,
  () => {
    scheduler.providersChanged();
    bumpCatalogVersion();
  },
  logger,
);

const changes = new ChangeRepository(db);
const purge = startLeaderLoop({
  name: 'change feed purge',
  intervalMs: 3_600_000,
  isLeader: () => scheduler.isLeader,
  logger,
  async pass() {
    const deleted = await changes.purge(env.CHANGES_RETENTION_DAYS);
    if (deleted > 0) logger.info('change feed purged', { deleted });
  },
});
const webhooks = new WebhookRepository(db);
const webhookQueue = new WebhookQueue(
  { connection: redis, prefix: env.QUEUE_PREFIX },
  { attempts: env.WEBHOOK_ATTEMPTS, backoffMs: env.WEBHOOK_BACKOFF_MS },
);
webhookQueue.queue.on('error', onRedisError);
const dispatcher = createWebhookDispatcher(db, webhookQueue);
const dispatch = startLeaderLoop({
  name: 'webhook dispatch',
  intervalMs: env.WEBHOOK_DISPATCH_INTERVAL_MS,
  isLeader: () => scheduler.isLeader,
  logger,
  pass: async () => void (await dispatcher.pass()),
});

const registry = createMetricsRegistry('scheduler');
registerBuildInfo(registry);
registerQueueDepthGauge(registry, [queue.queue], {
  dueWindowSeconds: env.QUEUE_DUE_WINDOW_SECONDS,
});
const providerStatus = new ProviderStatusRepository(db);
registerProviderMetrics(registry, () => providerStatus.freshness());
registerChangeFeedMetrics(registry, () => changes.lagSeconds());
registerBacklogMetric(registry, () => webhooks.backlog());
// A port clash must not stop scheduling.
const ops = await startOpsServerOrReport(
  {
    registry,
    port: env.METRICS_PORT,
    checks: { database: () => db.$queryRaw`SELECT 1`, redis: () => redis.ping() },
  },
  (error) =>
    logger.error('metrics server cannot listen', { port: env.METRICS_PORT, error: String(error) }),
);

onShutdownSignal(logger, async () => {
  await listener.close();
  await purge.stop();
  await dispatch.stop();
  await ops?.close();
  await scheduler.stop();
  await Promise.allSettled([queue.close(), webhookQueue.close(), db.$disconnect()]);
  await Promise.allSettled([redis.quit(), cacheRedis.quit()]);
});

logger.info('scheduler started', { prefix: env.QUEUE_PREFIX, metricsPort: ops?.port });
await scheduler.start();
