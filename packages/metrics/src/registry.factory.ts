import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every metric Marquee registers starts with this, so dashboards can tell ours from Node's. */
export const METRIC_PREFIX = 'marquee_';

/**
 * One registry per service process (never prom-client's global one, so tests can build several
 * side by side), with Node's default metrics and a `service` label on every series.
 */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
  return registry;
}
