import type { Request, RequestHandler } from 'express';
import { Histogram, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './registry.factory.ts';

export const HTTP_DURATION_METRIC = `${METRIC_PREFIX}http_request_duration_seconds`;

/** Label of every request no route matched (404s, scanners): one series, not one per URL. */
export const UNMATCHED_ROUTE = '(unmatched)';

/**
 * The matched route pattern (`/v1/events/:id`), never the raw URL: a label per distinct URL
 * would grow the series count without bound. Read when the response ends, after routing.
 */
function routeOf(req: Request): string {
  const route = req.route as { path?: unknown } | undefined;
  if (!route || typeof route.path !== 'string') return UNMATCHED_ROUTE;
  return `${req.baseUrl}${route.path}` || '/';
}

/** Records every request's duration by method, route pattern and status code. */
export function httpMetrics(registry: Registry): RequestHandler {
  const histogram = new Histogram({
    name: HTTP_DURATION_METRIC,
    help: 'HTTP request duration by method, matched route pattern and status code',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    // "close" also fires for clients that go away before the response is complete.
    res.once('close', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      histogram.observe(
        { method: req.method, route: routeOf(req), status_code: String(res.statusCode) },
        seconds,
      );
    });
    next();
  };
}
