import { Router } from 'express';
import { probe } from '@marquee/metrics';
import { sendJsonText } from './response.envelope.ts';

export interface ReadinessChecks {
  database(): Promise<void>;
  redis(): Promise<void>;
}

export interface HealthRouterOptions {
  checks: ReadinessChecks;
  /** Per check; a dependency slower than this counts as down. */
  timeoutMs?: number;
}

/**
 * `/healthz` answers while the process runs. `/readyz` needs Postgres; without Redis the API is
 * degraded but still serves (every request bypasses the cache), so it stays in rotation.
 */
export function healthRouter({ checks, timeoutMs = 1_000 }: HealthRouterOptions): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    sendJsonText(res, 200, '{"status":"ok"}');
  });
  router.get('/readyz', async (_req, res) => {
    const [database, redis] = await Promise.all([
      probe(() => checks.database(), timeoutMs),
      probe(() => checks.redis(), timeoutMs),
    ]);
    const status = database === 'down' ? 'unavailable' : redis === 'down' ? 'degraded' : 'ready';
    sendJsonText(
      res,
      database === 'down' ? 503 : 200,
      JSON.stringify({ status, checks: { database, redis } }),
    );
  });
  return router;
}
