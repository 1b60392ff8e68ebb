import type { RequestHandler } from 'express';
import { Counter, METRIC_PREFIX, type Registry } from '@marquee/metrics';

export const CACHE_METRIC = `${METRIC_PREFIX}cache_requests_total`;

export const CACHE_OUTCOMES: ReadonlySet<string> = new Set(['hit', 'miss', 'bypass', 'stale']);

/**
 * Counts cache outcomes by route from the `X-Cache` header the handlers set, so the count is
 * exactly what clients were told, and routes that never use the cache are not counted.
 */
export function cacheMetrics(registry: Registry): RequestHandler {
  const counter = new Counter({
    name: CACHE_METRIC,
    help: 'Cached endpoint answers by route and outcome (hit, miss, bypass: Redis down, stale)',
    labelNames: ['route', 'outcome'] as const,
    registers: [registry],
  });
  return (req, res, next) => {
    res.once('close', () => {
      const outcome = res.getHeader('X-Cache');
      if (typeof outcome !== 'string' || !CACHE_OUTCOMES.has(outcome)) return;
      const route = (req.route as { path?: string } | undefined)?.path ?? '(unmatched)';
      counter.inc({ route: `${req.baseUrl}${route}`, outcome });
    });
    next();
  };
}
