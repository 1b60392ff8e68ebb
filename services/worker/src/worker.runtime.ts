import type { Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { catalogVersionBump } from '@marquee/cache';
import {
  bulkTransactionSlots,
  createDb,
  EventRepository,
  FetchStateRepository,
  LAST_SEEN_GRANULARITY_MS,
  ProviderRepository,
  SyncRunRepository,
  WebhookRepository,
  type Db,
} from '@marquee/db';
import { createLogger, throttledLog, type Logger } from '@marquee/logger';
import { createMetricsRegistry, registerBuildInfo, type Registry } from '@marquee/metrics';
import {
  BreakerRegistry,
  fetchPayload,
  HostLeaseGate,
  PayloadBudget,
  RobotsGuard,
} from '@marquee/fetch';
import { writeBreakerStatus } from '@marquee/provider-status';
import { IngestQueue, SyncLock, WebhookQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { createWebhookWorker, registerDeliveryMetrics } from '@marquee/webhooks';
import { workerDbPoolMax, type WorkerEnv } from './env.schema.ts';
import { guardedFetchChain, httpFetch, type Fetcher, type FetchLinks } from './fetch.chain.ts';
import { closeWorker, createIngestWorker } from './ingest.worker.ts';
import { ProviderRemovalWatcher } from './provider-removal.watcher.ts';
import type { SyncDeps } from './sync.context.ts';
import { registerSyncMetrics, type SyncMetrics } from './sync.metrics.ts';
import { createSyncPipeline, type ProcessSync } from './sync.pipeline.ts';

/** What a caller may supply instead of what the environment describes. */
export interface WorkerRuntimeOverrides {
  logger?: Logger;
  /** The sync's clock (tests move it past markSeen's granularity). */
  now?: () => Date;
  /** Links of the fetch chain to replace: a test that wants no breaker passes `passThrough`. */
  links?: Partial<FetchLinks>;
  /** Clients to share instead of building them; the runtime never closes what it was given. */
  db?: Db;
  redis?: Redis;
  commandsRedis?: Redis;
  cacheRedis?: Redis;
}

export interface WorkerRuntime {
  env: WorkerEnv;
  logger: Logger;
  db: Db;
  /** BullMQ's connection (the ingest and webhooks workers, the sync lock's job states). */
  redis: Redis;
  /**
   * The sync's own commands (sync lock, host leases, robots.txt cache, breaker status), with
   * ioredis' auto-pipelining: the commands of concurrent syncs issued in one turn of the event
   * loop (the runs of one group commit finishing together, their leases taken together) go out
   * in one write. Measured: a 1,000-provider cycle drains 8-15% faster (bench/RESULTS.md). Not
   * BullMQ's connection: its scripts are left to BullMQ's own handling.
   */
  commandsRedis: Redis;
  registry: Registry;
  syncMetrics: SyncMetrics;
  breakers: BreakerRegistry;
  /** The guarded fetch chain: robots → host lease → breaker → content type → HTTP. */
  fetch: Fetcher;
  deps: SyncDeps;
  /** The sync pipeline, timed and counted by the metrics. */
  processSync: ProcessSync;
  /** Readiness checks for the ops server. */
  checks: { database: () => Promise<unknown>; redis: () => Promise<unknown> };
  /** A BullMQ worker of the ingest queue running `processSync` (not started: call `run()`). */
  createWorker(): Worker;
  /** A BullMQ worker of the webhooks queue (docs/webhooks.md), running. */
  createWebhookWorker(): Worker;
  /** Stops the workers it created (handing jobs back past SHUTDOWN_TIMEOUT_MS), then its clients. */
  close(): Promise<void>;
}

interface Clients {
  db: Db;
  redis: Redis;
  commandsRedis: Redis;
  cacheRedis: Redis;
  /**
   * For the 'error' events of every Redis client and BullMQ queue of the runtime: while Redis is
   * down each reports every reconnection attempt, and one without a listener writes it to stderr.
   */
  onRedisError: (error: unknown) => void;
  /** Closes the clients the runtime built. */
  close(): Promise<void>;
}

function buildClients(env: WorkerEnv, overrides: WorkerRuntimeOverrides, logger: Logger): Clients {
  const onRedisError = throttledLog(logger, 'warn', 'redis unavailable');
  const owned: (() => Promise<unknown>)[] = [];
  const own = <T>(client: T, close: (client: T) => Promise<unknown>): T => {
    owned.push(() => close(client));
    return client;
  };
  const ownRedis = (url: string, options?: Parameters<typeof createRedis>[2]) =>
    own(createRedis(url, 'blocking', options).on('error', onRedisError), (c) => c.quit());
  const db =
    overrides.db ??
    own(
      createDb({ databaseUrl: env.DATABASE_URL, maxConnections: workerDbPoolMax(env) }),
      (client) => client.$disconnect(),
    );
  const redis = overrides.redis ?? ownRedis(env.REDIS_URL);
  const commandsRedis =
    overrides.commandsRedis ?? ownRedis(env.REDIS_URL, { enableAutoPipelining: true });
  const cacheRedis = overrides.cacheRedis ?? ownRedis(env.CACHE_REDIS_URL ?? env.REDIS_URL);
  return {
    db,
    redis,
    commandsRedis,
    cacheRedis,
    onRedisError,
    close: async () => void (await Promise.allSettled(owned.map((close) => close()))),
  };
}

function buildBreakers(env: WorkerEnv, redis: Redis, metrics: SyncMetrics, logger: Logger) {
  const options = {
    timeoutMs: env.BREAKER_TIMEOUT_MS,
    errorThresholdPercentage: env.BREAKER_ERROR_THRESHOLD_PERCENT,
    volumeThreshold: env.BREAKER_VOLUME_THRESHOLD,
    resetTimeoutMs: env.BREAKER_RESET_TIMEOUT_MS,
    windowMs: env.BREAKER_WINDOW_MS,
  };
  return new BreakerRegistry(
    options,
    (providerId, status) => {
      metrics.breakerChanged(providerId, status.state);
      return writeBreakerStatus(redis, env.QUEUE_PREFIX, providerId, status);
    },
    logger,
  );
}

/** The fetch chain, each link built from the environment unless overridden. */
function buildFetchChain(
  env: WorkerEnv,
  redis: Redis,
  breakers: BreakerRegistry,
  links: Partial<FetchLinks> = {},
): Fetcher {
  const options = {
    timeoutMs: env.FETCH_TIMEOUT_MS,
    maxBytes: env.FETCH_MAX_BYTES,
    userAgent: env.FETCH_USER_AGENT,
    connectTimeoutMs: env.FETCH_CONNECT_TIMEOUT_MS,
    addressPolicy: { allowPrivate: env.ALLOW_PRIVATE_PROVIDERS },
  };
  // A lease outlives the fetch's whole deadline, so only a dead worker's lease ever expires.
  const hostGate = new HostLeaseGate(redis, env.QUEUE_PREFIX, {
    concurrency: env.POLITE_HOST_CONCURRENCY,
    minDelayMs: env.POLITE_MIN_DELAY_MS,
    leaseTtlMs: env.FETCH_TIMEOUT_MS + 5_000,
    maxWaitMs: env.POLITE_MAX_WAIT_MS,
  });
  const robots = new RobotsGuard(
    redis,
    env.QUEUE_PREFIX,
    (url, limit) => hostGate.around(url, () => fetchPayload(url, { ...options, ...limit })),
    { userAgent: env.FETCH_USER_AGENT, ttlSeconds: env.ROBOTS_TTL_SECONDS },
  );
  return guardedFetchChain({ robots, hostGate, breakers }, httpFetch(fetchPayload, options), links);
}

/** The catalog version the syncs of this process bump, one bump for concurrent ones. */
/** The webhooks queue's worker: deliveries, each finished one enqueueing its endpoint's next. */
function buildWebhookWorker(
  env: WorkerEnv,
  {
    db,
    redis,
    registry,
    logger,
    onRedisError,
    workers,
  }: {
    db: Db;
    redis: Redis;
    registry: Registry;
    logger: Logger;
    onRedisError: (error: unknown) => void;
    /** The runtime's workers, closed with it: the new one joins them. */
    workers: Worker[];
  },
): Worker {
  const webhooks = new WebhookRepository(db);
  const queue = new WebhookQueue(
    { connection: redis, prefix: env.QUEUE_PREFIX },
    { attempts: env.WEBHOOK_ATTEMPTS, backoffMs: env.WEBHOOK_BACKOFF_MS },
  );
  queue.queue.on('error', onRedisError);
  const worker = createWebhookWorker({
    connection: redis,
    prefix: env.QUEUE_PREFIX,
    concurrency: env.WEBHOOK_CONCURRENCY,
    webhooks,
    enqueueNext: async (endpointId) => {
      for (const head of await webhooks.heads(endpointId)) await queue.enqueueDelivery(head);
    },
    addressPolicy: { allowPrivate: env.ALLOW_PRIVATE_WEBHOOKS, target: 'webhooks' },
    timeoutMs: env.WEBHOOK_TIMEOUT_MS,
    observe: registerDeliveryMetrics(registry),
    onError: throttledLog(logger, 'error', 'webhook worker error'),
  });
  worker.on('closed', () => void queue.close());
  workers.push(worker);
  return worker;
}

/** What bounds a sync against hostile providers: its payload budget, parse limits and delays. */
function hostileInputBounds(env: WorkerEnv): Pick<SyncDeps, 'budget' | 'parseLimits' | 'delays'> {
  return {
    budget: new PayloadBudget(Math.round(env.WORKER_MAX_INFLIGHT_MB * 1024 * 1024)),
    parseLimits: {
      htmlMaxBytes: Math.round(env.PARSE_MAX_HTML_MB * 1024 * 1024),
      maxNodes: env.PARSE_MAX_NODES,
    },
    delays: {
      retryAfterMaxMs: env.RETRY_AFTER_MAX_SECONDS * 1_000,
      maxDelays: env.RATE_LIMIT_MAX_DELAYS,
    },
  };
}

/**
 * A job that fails for good leaves no sync run `running`: BullMQ fails a job that stalled too
 * often (its worker died mid-sync, again) without running it, so the run its last attempt opened
 * is closed here, with BullMQ's reason. Other failures closed their run already (no row changes).
 */
function closeRunsOfFailedJobs(worker: Worker, syncRuns: SyncRunRepository, logger: Logger): void {
  worker.on('failed', (job: Job | undefined, error: Error) => {
    if (job?.id === undefined || job.finishedOn === undefined) return;
    syncRuns.closeRunning(job.id, error.message).catch((cause: unknown) =>
      logger.warn('could not close the sync runs of a failed job', {
        jobId: job.id,
        error: cause instanceof Error ? cause.message : String(cause),
      }),
    );
  });
}

/** What the sync pipeline is given: repositories, the fetch chain, the lock and its limits. */
function buildSyncDeps(
  env: WorkerEnv,
  overrides: WorkerRuntimeOverrides,
  {
    clients: { db, commandsRedis, cacheRedis },
    fetch,
    logger,
    lockQueue,
  }: { clients: Clients; fetch: Fetcher; logger: Logger; lockQueue: Queue },
): SyncDeps {
  const providers = new ProviderRepository(db);
  return {
    providers,
    removals: new ProviderRemovalWatcher((ids) => providers.existing(ids)),
    // From the pool itself, whose `max` pg-pool always fills in: a caller's own Db (tests,
    // benchmarks) may have another size than the environment's.
    events: new EventRepository(db, {
      bulkTransactions: bulkTransactionSlots(db.pool.options.max),
    }),
    syncRuns: new SyncRunRepository(db),
    fetchStates: new FetchStateRepository(db),
    cache: { bumpVersion: catalogVersionBump(cacheRedis, env.QUEUE_PREFIX) },
    fetch,
    syncLock: new SyncLock(lockQueue, commandsRedis),
    policy: {
      lastSeenGranularityMs: LAST_SEEN_GRANULARITY_MS,
      shrinkGuardRatio: env.SHRINK_GUARD_RATIO,
    },
    ...hostileInputBounds(env),
    logger,
    now: overrides.now ?? (() => new Date()),
  };
}

/**
 * Every collaborator of a worker process, built from its parsed environment: main.ts, the tests
 * and the benchmarks all run the worker through this, so none of them wires it by hand.
 */
export function createWorkerRuntime(
  env: WorkerEnv,
  overrides: WorkerRuntimeOverrides = {},
): WorkerRuntime {
  const logger = overrides.logger ?? createLogger({ service: 'worker', level: env.LOG_LEVEL });
  const clients = buildClients(env, overrides, logger);
  const { db, redis, commandsRedis } = clients;
  const registry = createMetricsRegistry('worker');
  registerBuildInfo(registry);
  const syncMetrics = registerSyncMetrics(registry);
  const breakers = buildBreakers(env, commandsRedis, syncMetrics, logger);
  const fetch = buildFetchChain(env, commandsRedis, breakers, overrides.links);
  // The queue read on BullMQ's connection: the per-provider sync lock reads job states.
  const ownQueue = new IngestQueue({ connection: redis, prefix: env.QUEUE_PREFIX });
  ownQueue.queue.on('error', clients.onRedisError);
  const deps = buildSyncDeps(env, overrides, { clients, fetch, logger, lockQueue: ownQueue.queue });
  const { providers } = deps;
  const processSync = syncMetrics.instrument(
    createSyncPipeline(deps),
    async (id) => (await providers.findById(id))?.name,
  );
  const workers: Worker[] = [];
  return {
    env,
    logger,
    db,
    redis,
    commandsRedis,
    registry,
    syncMetrics,
    breakers,
    fetch,
    deps,
    processSync,
    checks: { database: () => db.$queryRaw`SELECT 1`, redis: () => redis.ping() },
    createWorker() {
      const worker = createIngestWorker({
        connection: redis,
        prefix: env.QUEUE_PREFIX,
        concurrency: env.WORKER_CONCURRENCY,
        lockDurationMs: env.WORKER_LOCK_DURATION_MS,
        stalledIntervalMs: env.WORKER_STALLED_INTERVAL_MS,
        processSync,
        logger,
      });
      syncMetrics.countDeadLetters(worker);
      closeRunsOfFailedJobs(worker, deps.syncRuns, logger);
      workers.push(worker);
      return worker;
    },
    createWebhookWorker: () =>
      buildWebhookWorker(env, {
        db,
        redis,
        registry,
        logger,
        onRedisError: clients.onRedisError,
        workers,
      }),
    async close() {
      await Promise.all(
        workers.map((worker) => closeWorker(worker, env.SHUTDOWN_TIMEOUT_MS, logger)),
      );
      breakers.shutdown();
      await ownQueue.close();
      await clients.close();
    },
  };
}
