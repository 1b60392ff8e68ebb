// The worker's sync metrics around a processor: counters per provider from the summary, the
// outcome label for each way a sync ends, and the breaker gauge fed by the breaker registry.
import { describe, expect, it } from '@jest/globals';
import { DelayedError, UnrecoverableError } from 'bullmq';
import { createMetricsRegistry } from '@marquee/metrics';
import type { SyncJob } from '@marquee/queue';
import { registerSyncMetrics } from '../src/sync.metrics.ts';
import type { SyncSummary } from '../src/sync.context.ts';
import { BreakerSkipError } from '../src/sync-failure.error.ts';

const PROVIDER_ID = '5b0f0a52-8a3e-4c57-b1f4-4f1b5f7a9c11';
const job = {
  data: { providerId: PROVIDER_ID, trigger: 'manual' },
  queueName: 'ingest',
  name: 'provider.sync',
} as unknown as SyncJob;

const summary: SyncSummary = {
  provider: 'acme',
  syncRunId: 'run-1',
  changed: true,
  fetched: 10,
  parsed: 9,
  upserted: 6,
  unchanged: 3,
  rejected: 1,
};

async function values(registry: ReturnType<typeof createMetricsRegistry>, name: string) {
  const metric = (await registry.getMetricsAsJSON()).find((candidate) => candidate.name === name);
  return (metric?.values ?? []) as {
    labels: Record<string, string | number>;
    value: number;
    metricName?: string;
  }[];
}

/** The histogram's observation counts by `label`: [label value, count], sorted. */
async function countsBy(
  registry: ReturnType<typeof createMetricsRegistry>,
  histogram: string,
  label: string,
) {
  return (await values(registry, histogram))
    .filter((sample) => sample.metricName === `${histogram}_count`)
    .map((sample) => [sample.labels[label], sample.value])
    .sort();
}

describe('registerSyncMetrics', () => {
  it('counts events per provider and times succeeded syncs and jobs', async () => {
    const registry = createMetricsRegistry('worker');
    const metrics = registerSyncMetrics(registry);
    const run = metrics.instrument(
      () => Promise.resolve(summary),
      () => Promise.resolve('unused'),
    );
    await run(job);
    await run(job);
    expect(await values(registry, 'marquee_provider_events_upserted_total')).toEqual([
      { labels: { provider: 'acme', service: 'worker' }, value: 12 },
    ]);
    expect((await values(registry, 'marquee_provider_events_rejected_total'))[0]?.value).toBe(2);
    const count = (await values(registry, 'marquee_sync_duration_seconds')).find(
      (sample) => sample.metricName === 'marquee_sync_duration_seconds_count',
    );
    expect(count).toMatchObject({ labels: { provider: 'acme', outcome: 'succeeded' }, value: 2 });
  });

  it('labels each failure by its kind, rethrows it, and names the provider', async () => {
    const registry = createMetricsRegistry('worker');
    const metrics = registerSyncMetrics(registry);
    let lookups = 0;
    const name = () => {
      lookups += 1;
      return Promise.resolve('acme');
    };
    const errors = [
      new DelayedError(),
      new BreakerSkipError(),
      new UnrecoverableError('404'),
      new Error('reset'),
    ];
    for (const error of errors) {
      const run = metrics.instrument(() => Promise.reject(error), name);
      await expect(run(job)).rejects.toBe(error);
    }
    // A run skipped by an open breaker is its own outcome, though its job is delayed too.
    expect(await countsBy(registry, 'marquee_sync_duration_seconds', 'outcome')).toEqual([
      ['delayed', 1],
      ['failed_permanent', 1],
      ['failed_transient', 1],
      ['skipped', 1],
    ]);
    // Looked up once, then remembered.
    expect(lookups).toBe(1);
    expect(await countsBy(registry, 'marquee_job_duration_seconds', 'status')).toEqual([
      ['delayed', 2],
      ['failed', 2],
    ]);
  });

  it('reports breaker states per provider by name once a job has named it', async () => {
    const registry = createMetricsRegistry('worker');
    const metrics = registerSyncMetrics(registry);
    await metrics.instrument(
      () => Promise.resolve(summary),
      () => Promise.resolve(undefined),
    )(job);
    metrics.breakerChanged(PROVIDER_ID, 'open');
    expect(await values(registry, 'marquee_breaker_state')).toEqual([
      { labels: { provider: 'acme', service: 'worker' }, value: 2 },
    ]);
    metrics.breakerChanged(PROVIDER_ID, 'halfOpen');
    expect((await values(registry, 'marquee_breaker_state'))[0]?.value).toBe(1);
    metrics.breakerChanged(PROVIDER_ID, 'closed');
    expect((await values(registry, 'marquee_breaker_state'))[0]?.value).toBe(0);
  });
});
