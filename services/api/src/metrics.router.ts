import { Router } from 'express';

/** `GET /metrics`: Prometheus text format, from this process's registry or the cluster's. */
export function metricsRouter(contentType: string, text: () => Promise<string>): Router {
  const router = Router();
  router.get('/metrics', async (_req, res) => {
    res.set('Content-Type', contentType).set('Cache-Control', 'no-store');
    res.send(await text());
  });
  return router;
}
