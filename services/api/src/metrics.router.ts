import { Router } from 'express';
import type { Registry } from '@marquee/metrics';

/** `GET /metrics`: Prometheus text format of this process's registry. */
export function metricsRouter(registry: Registry): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', registry.contentType).set('Cache-Control', 'no-store');
    res.send(await registry.metrics());
  });
  return router;
}
