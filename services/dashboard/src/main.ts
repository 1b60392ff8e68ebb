import { parseEnv } from '@marquee/config';
import { createDb, ProviderStatusRepository, WebhookRepository } from '@marquee/db';
import { onShutdownSignal } from '@marquee/lifecycle';
import { createLogger, throttledLog } from '@marquee/logger';
import {
  createMetricsRegistry,
  registerBuildInfo,
  registerQueueDepthGauge,
} from '@marquee/metrics';
import { breakerReader, ProviderStatusReader } from '@marquee/provider-status';
import { createRedis } from '@marquee/redis';
import { Queue } from 'bullmq';
import { IngestQueue, QUEUE_NAMES } from '@marquee/queue';
import { createDashboardApp, QUEUES_PATH } from './dashboard.app.ts';
import { dashboardCredentials } from './dashboard-credentials.ts';
import { DASHBOARD_DB_POOL_MAX, dashboardEnvSchema } from './env.schema.ts';
import { redisLoginThrottle } from './login.throttle.ts';

const SHUTDOWN_DEADLINE_MS = 10_000;

const env = parseEnv(dashboardEnvSchema);
const logger = createLogger({ service: 'dashboard', level: env.LOG_LEVEL });
const db = createDb({ databaseUrl: env.DATABASE_URL, maxConnections: DASHBOARD_DB_POOL_MAX });
// Fail fast: a page or a scrape while Redis is down answers an error, it does not hang.
const redis = createRedis(env.REDIS_URL, 'fail-fast');
// Pages and scrapes answer errors while Redis is down; the client and BullMQ's queues report
// every reconnection attempt (without a listener, each one raw to stderr).
const onRedisError = throttledLog(logger, 'warn', 'redis unavailable');
redis.on('error', onRedisError);
const ingest = new IngestQueue({ connection: redis, prefix: env.QUEUE_PREFIX });
// Every queue of the job catalog: a new queue shows up on the board and in the metrics as is.
const queues = Object.values(QUEUE_NAMES).map((name) =>
  name === QUEUE_NAMES.ingest
    ? ingest.queue
    : new Queue(name, { connection: redis, prefix: env.QUEUE_PREFIX }),
);
for (const queue of queues) queue.on('error', onRedisError);

const registry = createMetricsRegistry('dashboard');
registerBuildInfo(registry);
registerQueueDepthGauge(registry, queues, { dueWindowSeconds: env.QUEUE_DUE_WINDOW_SECONDS });

const app = createDashboardApp({
  queues,
  ingest,
  readOnly: env.DASHBOARD_READ_ONLY,
  credentials: dashboardCredentials(env),
  loginThrottle: redisLoginThrottle({
    redis,
    prefix: env.QUEUE_PREFIX,
    maxFailures: env.DASHBOARD_LOGIN_MAX_FAILURES,
  }),
  trustProxy: env.TRUST_PROXY,
  providerStatus: new ProviderStatusReader({
    statuses: new ProviderStatusRepository(db),
    breakers: breakerReader(redis, env.QUEUE_PREFIX),
  }),
  webhooks: new WebhookRepository(db),
  registry,
  checks: {
    database: () => db.$queryRaw`SELECT 1`,
    redis: () => redis.ping(),
  },
  logger,
});

const server = app.listen(env.DASHBOARD_PORT, env.DASHBOARD_HOST, (error) => {
  if (error) {
    logger.error('cannot listen', { port: env.DASHBOARD_PORT, error: error.message });
    process.exit(1);
  }
  const address = server.address();
  logger.info('listening', {
    host: env.DASHBOARD_HOST,
    port: typeof address === 'object' && address ? address.port : env.DASHBOARD_PORT,
    queues: QUEUES_PATH,
    readOnly: env.DASHBOARD_READ_ONLY,
  });
});

onShutdownSignal(logger, async () => {
  setTimeout(() => process.exit(1), SHUTDOWN_DEADLINE_MS).unref();
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
  await Promise.allSettled([...queues.map((queue) => queue.close()), db.$disconnect()]);
  await redis.quit().catch(() => redis.disconnect());
});
