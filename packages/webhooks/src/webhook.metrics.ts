import {
  Counter,
  Histogram,
  METRIC_PREFIX,
  registerScrapedGauge,
  type Registry,
} from '@marquee/metrics';
import type { DeliveryOutcome } from './webhook.deliverer.ts';

/**
 * Delivery metrics of a worker: attempts by outcome (`sent`, `retried`, `failed`: a dead
 * letter) and seconds from the change to its delivery. Returns the deliverer's `observe`.
 */
export function registerDeliveryMetrics(
  registry: Registry,
): (outcome: DeliveryOutcome, latencySeconds?: number) => void {
  const attempts = new Counter({
    name: `${METRIC_PREFIX}webhook_deliveries_total`,
    help: 'Webhook delivery attempts by outcome: sent, retried (failed, tried again), failed (dead letter)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: `${METRIC_PREFIX}webhook_delivery_latency_seconds`,
    help: 'From the change (its commit) to its webhook delivery (2xx)',
    buckets: [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800],
    registers: [registry],
  });
  for (const outcome of ['sent', 'retried', 'failed'] as const) attempts.inc({ outcome }, 0);
  return (outcome, latencySeconds) => {
    if (outcome === 'gone' || outcome === 'later') return;
    attempts.inc({ outcome });
    if (latencySeconds !== undefined) latency.observe(latencySeconds);
  };
}

/** `marquee_webhook_backlog`: pending messages of all endpoints, read on each scrape. */
export function registerBacklogMetric(registry: Registry, backlog: () => Promise<number>): void {
  registerScrapedGauge(
    registry,
    {
      name: `${METRIC_PREFIX}webhook_backlog`,
      help: 'Webhook messages not yet delivered nor dead-lettered, all endpoints together',
    },
    backlog,
  );
}
