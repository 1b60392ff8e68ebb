import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import type { Queue } from 'bullmq';
import express from 'express';
import type { Logger } from '@marquee/logger';
import { httpMetrics, opsHandler, type DependencyCheck, type Registry } from '@marquee/metrics';
import { dashboardAuth, type DashboardCredentials } from './dashboard-auth.middleware.ts';
import { renderStatusPage } from './provider-status.page.ts';
import type { providerStatusSource } from './provider-status.source.ts';

/** Bull Board's mount path; its `basePath` must be the same or its links and API calls break. */
export const QUEUES_PATH = '/admin/queues';

export interface DashboardAppOptions {
  queues: readonly Queue[];
  readOnly: boolean;
  credentials: DashboardCredentials;
  providerStatus: ReturnType<typeof providerStatusSource>;
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
  const app = express();
  app.disable('x-powered-by');
  app.use(httpMetrics(options.registry));

  const ops = opsHandler({ registry: options.registry, checks: options.checks });
  app.get(['/healthz', '/readyz', '/metrics'], (req, res) => void ops(req, res));

  app.use(dashboardAuth(options.credentials));

  app.get('/', async (_req, res) => {
    const { rows, breakersUnavailable } = await options.providerStatus();
    res
      .status(200)
      .type('html')
      .set('Cache-Control', 'no-store')
      .set('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'")
      .send(
        renderStatusPage({
          rows,
          breakersUnavailable,
          queuesPath: QUEUES_PATH,
          readOnly: options.readOnly,
        }),
      );
  });

  if (options.readOnly) {
    // Bull Board refuses most changes itself in read-only mode (405), but some bulk actions
    // answer 200 and skip read-only queues: refuse every change here, before it is reached.
    app.use(QUEUES_PATH, (req, res, next) => {
      if (req.method === 'GET' || req.method === 'HEAD') {
        next();
        return;
      }
      res.status(405).set('Allow', 'GET, HEAD').json({ error: 'the dashboard is read-only' });
    });
  }
  const serverAdapter = new ExpressAdapter();
  serverAdapter.setBasePath(QUEUES_PATH);
  createBullBoard({
    queues: options.queues.map(
      (queue) => new BullMQAdapter(queue, { readOnlyMode: options.readOnly }),
    ),
    serverAdapter,
    options: { uiConfig: { boardTitle: 'Marquee queues' } },
  });
  app.use(QUEUES_PATH, serverAdapter.getRouter() as express.Router);

  app.use(((error, _req, res, _next) => {
    options.logger.error('dashboard request failed', {
      error: error instanceof Error ? error.message : String(error),
    });
    if (!res.headersSent) res.status(500).type('text/plain').send('internal error');
  }) satisfies express.ErrorRequestHandler);
  return app;
}
