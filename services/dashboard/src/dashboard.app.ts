import type { Queue } from 'bullmq';
import express from 'express';
import type { WebhookRepository } from '@marquee/db';
import type { Logger } from '@marquee/logger';
import { httpMetrics, opsHandler, type DependencyCheck, type Registry } from '@marquee/metrics';
import type { ProviderStatusReader } from '@marquee/provider-status';
import type { IngestQueue, ScheduleInfo } from '@marquee/queue';
import { bullBoardRouter } from './bull-board.router.ts';
import { dashboardAuth, type DashboardCredentials } from './dashboard-auth.middleware.ts';
import type { LoginThrottle } from './login.throttle.ts';
import { renderStatusPage } from './provider-status.page.ts';

/** Bull Board's mount path; its `basePath` must be the same or its links and API calls break. */
export const QUEUES_PATH = '/admin/queues';
/** How often the status page reloads itself. */
export const STATUS_REFRESH_SECONDS = 10;

export interface DashboardAppOptions {
  /** Every queue, for Bull Board; `ingest` among them. */
  queues: readonly Queue[];
  /** The providers' queue: its depth and Job Schedulers show on the status page. */
  ingest: IngestQueue;
  readOnly: boolean;
  credentials: DashboardCredentials;
  loginThrottle?: LoginThrottle;
  /** Express's `trust proxy` (proxies in front), so the throttle sees client addresses. */
  trustProxy?: number;
  providerStatus: ProviderStatusReader;
  /** Webhook endpoints' health for the status page. */
  webhooks: Pick<WebhookRepository, 'list'>;
  registry: Registry;
  checks: Record<string, DependencyCheck>;
  logger: Logger;
}

/**
 * Ops dashboard: the provider status page at `/` and Bull Board at `/admin/queues`, both behind
 * authentication. `/healthz`, `/readyz` and `/metrics` stay open for probes and Prometheus; the
 * NetworkPolicy keeps the whole service inside the cluster.
 */
export function createDashboardApp(options: DashboardAppOptions): express.Express {
  const { logger } = options;
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy ?? 0);
  app.use(httpMetrics(options.registry));

  const ops = opsHandler({ registry: options.registry, checks: options.checks });
  app.get(['/healthz', '/readyz', '/metrics'], (req, res) => void ops(req, res));

  app.use(
    dashboardAuth(options.credentials, {
      throttle: options.loginThrottle,
      onThrottleError: (error) =>
        logger.warn('login throttle unavailable; checking the login unthrottled', {
          error: error instanceof Error ? error.message : String(error),
        }),
    }),
  );

  app.get('/', async (_req, res) => {
    res
      .status(200)
      .type('html')
      .set('Cache-Control', 'no-store')
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(await statusPage(options));
  });

  app.use(
    QUEUES_PATH,
    bullBoardRouter({
      queues: options.queues,
      readOnly: options.readOnly,
      basePath: QUEUES_PATH,
      statusPath: '/',
    }),
  );

  app.use(((error, _req, res, _next) => {
    logger.error('dashboard request failed', {
      error: error instanceof Error ? error.message : String(error),
    });
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error');
  }) satisfies express.ErrorRequestHandler);
  return app;
}

/** The page from PostgreSQL (required) and Redis (queue depth and schedules: shown as unknown). */
async function statusPage(options: DashboardAppOptions): Promise<string> {
  const [report, webhooks, depth, schedules] = await Promise.all([
    options.providerStatus.read(),
    options.webhooks.list(),
    options.ingest.depth().catch(() => null),
    options.ingest.listSchedules().catch((): ScheduleInfo[] => []),
  ]);
  return renderStatusPage({
    report,
    depth,
    schedules: new Map(schedules.map((schedule) => [schedule.providerId, schedule])),
    webhooks,
    queuesPath: QUEUES_PATH,
    queueName: options.ingest.queue.name,
    readOnly: options.readOnly,
    refreshSeconds: STATUS_REFRESH_SECONDS,
  });
}
