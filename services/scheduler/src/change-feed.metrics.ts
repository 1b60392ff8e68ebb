import { METRIC_PREFIX, registerScrapedGauge, type Registry } from '@marquee/metrics';

/**
 * `marquee_changes_lag_seconds`, read from PostgreSQL on each scrape: how long the oldest change
 * not yet readable has waited (docs/changes.md). It grows while a write transaction older than
 * it stays open anywhere on the PostgreSQL server.
 */
export function registerChangeFeedMetrics(registry: Registry, lagSeconds: () => Promise<number>) {
  registerScrapedGauge(
    registry,
    {
      name: `${METRIC_PREFIX}changes_lag_seconds`,
      help: 'Age of the oldest change of the change feed not yet readable (seconds; 0: none waits)',
    },
    lagSeconds,
  );
}
