import cluster from 'node:cluster';
import type { Server } from 'node:http';
import type { Redis } from 'ioredis';
import { SearchCache } from '@marquee/cache';
import {
  ApiKeyRepository,
  ChangeRepository,
  createDb,
  EventRepository,
  ProviderStatusRepository,
  type Db,
} from '@marquee/db';
import { onShutdownSignal } from '@marquee/lifecycle';
import { createLogger, throttledLog, type Logger } from '@marquee/logger';
import { clusterMetricsText, createMetricsRegistry, registerBuildInfo } from '@marquee/metrics';
import { readBreakerStatuses } from '@marquee/provider-status';
import { createRedis } from '@marquee/redis';
import { createApp } from './app.ts';
import { API_DB_POOL_MAX, type ApiEnv } from './env.schema.ts';
import { createApiServer } from './http.server.ts';
import { RateLimiter } from './rate.limiter.ts';

// Kubernetes waits 30 s after SIGTERM by default; finish well inside that.
const DRAIN_MS = 8_000;
const SHUTDOWN_DEADLINE_MS = 10_000;
const MIB = 1024 * 1024;

/** The clients one API process holds, and how to close them. */
interface Connections {
  db: Db;
  /** The cache's Redis. */
  redis: Redis;
  /** The cache's SUBSCRIBE connection (catalog version bumps). */
  versionSubscriber: Redis;
  /** The queues' Redis: quotas and breaker reports (the cache's when they are the same). */
  limitsRedis: Redis;
  cache: SearchCache;
}

function connect(env: ApiEnv, logger: Logger): Connections {
  const db = createDb({ databaseUrl: env.DATABASE_URL, maxConnections: API_DB_POOL_MAX });
  // Commands issued in one event-loop turn (the rate-limit hits of a burst of requests) share one
  // socket write: without it, each request's EVALSHA cost a write syscall of its own.
  const AUTO_PIPELINE = { enableAutoPipelining: true } as const;
  const redis = createRedis(env.CACHE_REDIS_URL, 'fail-fast', AUTO_PIPELINE);
  // While Redis is down every request fails over: one warning per interval is enough.
  const redisTrouble = throttledLog(logger, 'warn', 'cache unavailable; serving from Postgres');
  redis.on('error', redisTrouble);
  // Keeps the catalog version in this process (pub/sub, re-read at least every second), so a
  // cached answer costs no Redis read. Retries forever: it must come back after an outage.
  const versionSubscriber = createRedis(env.CACHE_REDIS_URL, 'blocking');
  versionSubscriber.on('error', redisTrouble);
  const cache = new SearchCache({
    redis,
    prefix: env.QUEUE_PREFIX,
    ttlSeconds: env.CACHE_TTL_SECONDS,
    staleTtlSeconds: env.CACHE_STALE_TTL_SECONDS,
    maxBytes: env.CACHE_MAX_MB * MIB,
    onError: redisTrouble,
    versionSubscriber,
  });
  // Quotas belong with the queues' Redis (no eviction) when the cache has its own (LRU).
  const limitsRedis =
    env.REDIS_URL === env.CACHE_REDIS_URL
      ? redis
      : createRedis(env.REDIS_URL, 'fail-fast', AUTO_PIPELINE);
  if (limitsRedis !== redis) limitsRedis.on('error', redisTrouble);
  return { db, redis, versionSubscriber, limitsRedis, cache };
}

async function disconnect({ db, redis, versionSubscriber, limitsRedis, cache }: Connections) {
  await cache.settled();
  const quit = (client: Redis) => client.quit().catch(() => client.disconnect());
  await Promise.allSettled([
    db.$disconnect(),
    // QUIT needs a live connection; without one there is nothing to flush.
    quit(redis),
    quit(versionSubscriber),
    ...(limitsRedis === redis ? [] : [quit(limitsRedis)]),
  ]);
}

function appOf(env: ApiEnv, logger: Logger, { db, redis, limitsRedis, cache }: Connections) {
  const metrics = createMetricsRegistry('api');
  registerBuildInfo(metrics);
  return createApp({
    metrics,
    // Under API_WORKERS > 1 a scrape reaches one worker: it answers with every worker's totals.
    ...(cluster.isWorker && { metricsText: clusterMetricsText(metrics) }),
    events: new EventRepository(db),
    cache,
    logger,
    providers: new ProviderStatusRepository(db),
    changes: {
      repository: new ChangeRepository(db),
      retentionDays: env.CHANGES_RETENTION_DAYS,
    },
    // Workers publish breaker reports next to the queues, not in the cache's Redis.
    breakers: (ids) => readBreakerStatuses(limitsRedis, env.QUEUE_PREFIX, ids),
    cachePolicy: {
      maxAgeSeconds: env.API_MAX_AGE_SECONDS,
      staleIfErrorSeconds: env.CACHE_STALE_TTL_SECONDS,
    },
    access: {
      keys: new ApiKeyRepository(db),
      limiter: new RateLimiter({ redis: limitsRedis, prefix: env.QUEUE_PREFIX }),
      publicQuotaPerMinute: env.RATE_LIMIT_PUBLIC_PER_MINUTE,
      keyQuotaPerMinute: env.RATE_LIMIT_KEY_PER_MINUTE,
    },
    corsOrigins: env.CORS_ORIGINS,
    trustProxy: env.TRUST_PROXY,
    checks: {
      async database() {
        await db.$queryRaw`SELECT 1`;
      },
      async redis() {
        await redis.ping();
      },
    },
  });
}

function listen(server: Server, env: ApiEnv, logger: Logger): void {
  server.once('error', (error) => {
    logger.error('cannot listen', { host: env.API_HOST, port: env.API_PORT, error: error.message });
    process.exit(1);
  });
  server.listen(env.API_PORT, env.API_HOST, () => {
    const address = server.address();
    // The bound port, not the configured one: API_PORT=0 picks a free port.
    logger.info('listening', {
      host: env.API_HOST,
      port: typeof address === 'object' && address ? address.port : env.API_PORT,
    });
  });
}

/**
 * On SIGTERM/SIGINT: answers in flight finish (keep-alive clients are told to reconnect
 * elsewhere), then the clients close and the process exits, within SHUTDOWN_DEADLINE_MS.
 */
function closeOnSignal(server: Server, connections: Connections, logger: Logger): void {
  let draining = false;
  // Ahead of the app, so the header is set before any handler can send: keep-alive clients get
  // their in-flight answer, then reconnect to another replica.
  server.prependListener('request', (_req, res) => {
    if (draining) res.setHeader('Connection', 'close');
  });
  onShutdownSignal(
    logger,
    async () => {
      draining = true;
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), DRAIN_MS).unref();
      });
      await disconnect(connections);
    },
    { deadlineMs: SHUTDOWN_DEADLINE_MS },
  );
}

/**
 * One API process: connections, the app, the listening server and its graceful shutdown on
 * SIGTERM/SIGINT (exits the process when done). Run once per process, by main.ts.
 */
export function runApiServer(env: ApiEnv): void {
  const logger = createLogger({ service: 'api', level: env.LOG_LEVEL });
  const connections = connect(env, logger);
  const server = createApiServer(appOf(env, logger, connections));
  listen(server, env, logger);
  closeOnSignal(server, connections, logger);
}
