import { Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from './registry.factory.ts';

export const QUEUE_DEPTH_METRIC = `${METRIC_PREFIX}queue_jobs`;

/**
 * States reported per queue. `prioritized` jobs wait too, in a sorted set instead of the list.
 * `due` is the part of `delayed` whose time comes within the due window: retries and rate-limited
 * syncs about to run. The rest of `delayed` is mostly each Job Scheduler's next run, which is work
 * for later, not for a worker now (see registerQueueDepthGauge).
 */
export const QUEUE_STATES = [
  'waiting',
  'prioritized',
  'active',
  'delayed',
  'due',
  'failed',
] as const;

/** The states BullMQ counts itself. */
const BULLMQ_STATES = QUEUE_STATES.filter((state) => state !== 'due');

/** The part of a BullMQ `Queue` this needs (keeps this package free of bullmq). */
export interface CountableQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
  /**
   * Delayed jobs due strictly before `timestamp` (ms). BullMQ counts them in its delayed set by
   * its own score encoding (timestamp × 0x1000 plus an order within the millisecond).
   */
  getDelayedCount(timestamp?: number): Promise<number>;
}

async function countStates(
  queue: CountableQueue,
  dueWindowMs: number,
): Promise<Record<string, number>> {
  const [counts, due] = await Promise.all([
    queue.getJobCounts(...BULLMQ_STATES),
    queue.getDelayedCount(Date.now() + dueWindowMs),
  ]);
  return { ...counts, due };
}

/**
 * Jobs per queue and state, read from Redis when scraped (never cached, never polled between
 * scrapes). A Redis failure fails the scrape rather than reporting stale numbers. `due` counts
 * delayed jobs whose time comes within `dueWindowSeconds` of the scrape: KEDA scales workers on
 * waiting + prioritized + active + due, never on the future runs every Job Scheduler keeps.
 */
export function registerQueueDepthGauge(
  registry: Registry,
  queues: readonly CountableQueue[],
  { dueWindowSeconds }: { dueWindowSeconds: number },
): Gauge<'queue' | 'state'> {
  return new Gauge({
    name: QUEUE_DEPTH_METRIC,
    help: `Jobs in each queue by state (waiting, prioritized, active, delayed, failed; due: delayed jobs due within ${dueWindowSeconds} s), sampled on scrape`,
    labelNames: ['queue', 'state'] as const,
    registers: [registry],
    async collect() {
      const counts = await Promise.all(
        queues.map(
          async (queue) => [queue.name, await countStates(queue, dueWindowSeconds * 1000)] as const,
        ),
      );
      this.reset();
      for (const [queue, byState] of counts) {
        for (const state of QUEUE_STATES) this.set({ queue, state }, byState[state] ?? 0);
      }
    },
  });
}
