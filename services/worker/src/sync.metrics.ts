import { DelayedError, UnrecoverableError, type Job, type Worker } from 'bullmq';
import type { BreakerState } from '@marquee/fetch';
import { Counter, Gauge, Histogram, METRIC_PREFIX, type Registry } from '@marquee/metrics';
import type { SyncJob } from '@marquee/queue';
import { BreakerSkipError } from './sync-failure.error.ts';
import type { SyncSummary } from './sync.context.ts';
import type { ProcessSync } from './sync.pipeline.ts';

export const SYNC_METRICS = {
  eventsFetched: `${METRIC_PREFIX}provider_events_fetched_total`,
  eventsUpserted: `${METRIC_PREFIX}provider_events_upserted_total`,
  eventsUnchanged: `${METRIC_PREFIX}provider_events_unchanged_total`,
  eventsRejected: `${METRIC_PREFIX}provider_events_rejected_total`,
  syncDuration: `${METRIC_PREFIX}sync_duration_seconds`,
  jobDuration: `${METRIC_PREFIX}job_duration_seconds`,
  breakerState: `${METRIC_PREFIX}breaker_state`,
  deadLetters: `${METRIC_PREFIX}dead_letters_total`,
} as const;

/** How one sync ended, as a metric label. */
export type SyncOutcome =
  'succeeded' | 'skipped' | 'delayed' | 'failed_permanent' | 'failed_transient';

/** Breaker states as gauge values: 0 closed (healthy), 1 half-open (probing), 2 open (shedding). */
export const BREAKER_STATE_VALUES: Record<BreakerState, number> = {
  closed: 0,
  halfOpen: 1,
  open: 2,
};

function classifyOutcome(error: unknown): SyncOutcome {
  // Delayed too, but the run did not happen: the provider's breaker is open.
  if (error instanceof BreakerSkipError) return 'skipped';
  if (error instanceof DelayedError) return 'delayed';
  if (error instanceof UnrecoverableError) return 'failed_permanent';
  return 'failed_transient';
}

function providerIdOf(job: SyncJob): string | undefined {
  const id = (job.data as { providerId?: unknown } | undefined)?.providerId;
  return typeof id === 'string' ? id : undefined;
}

const DURATION_BUCKETS = [0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];

export interface SyncMetrics {
  /** Wraps the sync processor: times every job and counts its events per provider. */
  instrument(
    processSync: ProcessSync,
    providerName: (providerId: string) => Promise<string | undefined>,
  ): ProcessSync;
  /**
   * Hook for the per-provider circuit breakers (call it from BreakerRegistry's `report`): the
   * state `marquee_breaker_state` shows for that provider from now on.
   */
  breakerChanged(providerId: string, state: BreakerState): void;
  /** Counts the jobs `worker` moves to the failed set for good (dead letters), per provider. */
  countDeadLetters(worker: Worker): void;
}

function createMeters(registry: Registry) {
  const counter = (name: string, help: string) =>
    new Counter({ name, help, labelNames: ['provider'] as const, registers: [registry] });
  return {
    fetched: counter(SYNC_METRICS.eventsFetched, 'Items fetched from a provider'),
    upserted: counter(SYNC_METRICS.eventsUpserted, 'Events inserted or changed by a sync'),
    unchanged: counter(SYNC_METRICS.eventsUnchanged, 'Events a sync found unchanged'),
    rejected: counter(SYNC_METRICS.eventsRejected, 'Items a sync rejected as invalid'),
    syncDuration: new Histogram({
      name: SYNC_METRICS.syncDuration,
      help: 'Duration of one provider sync by provider and outcome',
      labelNames: ['provider', 'outcome'] as const,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    jobDuration: new Histogram({
      name: SYNC_METRICS.jobDuration,
      help: 'Processing time of one job by queue, job name and status',
      labelNames: ['queue', 'name', 'status'] as const,
      buckets: DURATION_BUCKETS,
      registers: [registry],
    }),
    deadLetters: new Counter({
      name: SYNC_METRICS.deadLetters,
      help: 'Jobs that failed for good (a permanent failure or no attempt left): the failed set',
      labelNames: ['queue', 'provider'] as const,
      registers: [registry],
    }),
  };
}

type Meters = ReturnType<typeof createMeters>;

function recordSuccess(meters: Meters, job: SyncJob, summary: SyncSummary, seconds: number): void {
  const provider = { provider: summary.provider };
  meters.fetched.inc(provider, summary.fetched);
  meters.upserted.inc(provider, summary.upserted);
  meters.unchanged.inc(provider, summary.unchanged);
  meters.rejected.inc(provider, summary.rejected);
  const outcome: SyncOutcome = summary.skipped ? 'skipped' : 'succeeded';
  meters.syncDuration.observe({ ...provider, outcome }, seconds);
  meters.jobDuration.observe(
    { queue: job.queueName, name: job.name, status: 'completed' },
    seconds,
  );
}

/** Times every job and counts its events per provider; `names` learns provider id → name. */
function instrument(
  meters: Meters,
  names: Map<string, string>,
  processSync: ProcessSync,
  providerName: (providerId: string) => Promise<string | undefined>,
): ProcessSync {
  return async (job, token) => {
    const started = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - started) / 1e9;
    const id = providerIdOf(job);
    try {
      const summary = await processSync(job, token);
      if (id) names.set(id, summary.provider);
      recordSuccess(meters, job, summary, elapsed());
      return summary;
    } catch (error) {
      const seconds = elapsed();
      const status = error instanceof DelayedError ? 'delayed' : 'failed';
      meters.jobDuration.observe({ queue: job.queueName, name: job.name, status }, seconds);
      // A failed job carries only the provider id; the name is looked up once (failures are rare).
      let name = id ? names.get(id) : undefined;
      if (id && !name) {
        name = await providerName(id).catch(() => undefined);
        if (name) names.set(id, name);
      }
      const outcome = classifyOutcome(error);
      meters.syncDuration.observe({ provider: name ?? 'unknown', outcome }, seconds);
      throw error;
    }
  };
}

export function registerSyncMetrics(registry: Registry): SyncMetrics {
  const meters = createMeters(registry);
  // Provider id → name, learnt from the jobs this process ran (breakers exist only for those).
  const names = new Map<string, string>();
  const breakers = new Map<string, BreakerState>();
  new Gauge({
    name: SYNC_METRICS.breakerState,
    help: 'Circuit breaker state per provider in this process: 0 closed, 1 half-open, 2 open',
    labelNames: ['provider'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const [id, state] of breakers) {
        this.set({ provider: names.get(id) ?? id }, BREAKER_STATE_VALUES[state]);
      }
    },
  });
  return {
    breakerChanged(providerId, state) {
      breakers.set(providerId, state);
    },
    countDeadLetters(worker) {
      // BullMQ sets finishedOn only when the job moved to the failed set, not when it retries.
      worker.on('failed', (job: Job | undefined) => {
        if (job?.finishedOn === undefined) return;
        const id = providerIdOf(job as SyncJob);
        meters.deadLetters.inc({
          queue: job.queueName,
          provider: (id && names.get(id)) ?? 'unknown',
        });
      });
    },
    instrument: (processSync, providerName) => instrument(meters, names, processSync, providerName),
  };
}
