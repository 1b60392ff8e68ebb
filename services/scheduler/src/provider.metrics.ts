import type { ProviderFreshness } from '@marquee/db';
import { Gauge, METRIC_PREFIX, type Registry } from '@marquee/metrics';

const PROVIDER_METRICS = {
  lastSuccess: `${METRIC_PREFIX}provider_last_success_timestamp_seconds`,
  interval: `${METRIC_PREFIX}provider_interval_seconds`,
} as const;

/**
 * Per enabled provider, read from PostgreSQL on each scrape: when its last successful sync
 * finished and how often it should sync. They live in the scheduler, not the workers: sync runs
 * are the record, so the series survive worker restarts and there is one per provider, whichever
 * worker ran it. A provider that never succeeded has an interval and no last success. Both gauges
 * share one query per scrape (prom-client collects them concurrently).
 */
export function registerProviderMetrics(
  registry: Registry,
  freshness: () => Promise<ProviderFreshness[]>,
): void {
  let inFlight: Promise<ProviderFreshness[]> | undefined;
  const rows = () => (inFlight ??= freshness().finally(() => (inFlight = undefined)));
  new Gauge({
    name: PROVIDER_METRICS.lastSuccess,
    help: 'When the last successful sync of each enabled provider finished (seconds since the epoch)',
    labelNames: ['provider'] as const,
    registers: [registry],
    async collect() {
      const current = await rows();
      this.reset();
      for (const row of current) {
        if (row.last_success !== null) this.set({ provider: row.name }, row.last_success);
      }
    },
  });
  new Gauge({
    name: PROVIDER_METRICS.interval,
    help: 'Sync interval of each enabled provider (seconds)',
    labelNames: ['provider'] as const,
    registers: [registry],
    async collect() {
      const current = await rows();
      this.reset();
      for (const row of current) this.set({ provider: row.name }, row.every_seconds);
    },
  });
}
