import { Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './registry.factory.ts';

export const QUEUE_DEPTH_METRIC = `${METRIC_PREFIX}queue_jobs`;

/** States reported per queue. `prioritized` jobs wait too, in a sorted set instead of the list. */
export const QUEUE_STATES = ['waiting', 'prioritized', 'active', 'delayed', 'failed'] as const;

/** The part of a BullMQ `Queue` this needs (keeps this package free of bullmq). */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

/**
 * Jobs per queue and state, read from Redis when scraped (never cached, never polled between
 * scrapes). A Redis failure fails the scrape rather than reporting stale numbers.
 */
export function registerQueueDepthGauge(
  registry: Registry,
  queues: readonly CountableQueue[],
): Gauge<'queue' | 'state'> {
  return new Gauge({
    name: QUEUE_DEPTH_METRIC,
    help: 'Jobs in each queue by state (waiting, prioritized, active, delayed, failed), sampled on scrape',
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.all(
        queues.map(
          async (queue) => [queue.name, await queue.getJobCounts(...QUEUE_STATES)] as const,
        ),
      );
      this.reset();
      for (const [queue, byState] of counts) {
        for (const state of QUEUE_STATES) this.set({ queue, state }, byState[state] ?? 0);
      }
    },
  });
}
