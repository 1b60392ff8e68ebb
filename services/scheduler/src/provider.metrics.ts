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
  const perProvider = (
    name: string,
    help: string,
    value: (row: ProviderFreshness) => number | null,
  ) =>
    new Gauge({
      name,
      help,
      labelNames: ['provider'] as const,
      registers: [registry],
      async collect() {
        const current = await rows();
        this.reset();
        for (const row of current) {
          const sample = value(row);
          if (sample !== null) this.set({ provider: row.name }, sample);
        }
      },
    });
  perProvider(
    PROVIDER_METRICS.lastSuccess,
    'When the last successful sync of each enabled provider finished (seconds since the epoch)',
    (row) => row.last_success,
  );
  perProvider(
    PROVIDER_METRICS.interval,
    'Sync interval of each enabled provider (seconds)',
    (row) => row.every_seconds,
  );
}
