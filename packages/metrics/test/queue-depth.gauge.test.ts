// The queue-depth gauge on a real BullMQ queue: every state read from Redis on each scrape, and
// `due` counting only the delayed jobs whose time comes within the window, never the next runs
// Job Schedulers keep in the delayed set.
import { afterAll, describe, expect, it } from '@jest/globals';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { uniquePrefix } from '@marquee/testing';
import {
  createMetricsRegistry,
  registerQueueDepthGauge,
  startOpsServer,
  type OpsServer,
} from '../src/index.ts';

const redis = new Redis('redis://127.0.0.1:6379/0', { maxRetriesPerRequest: null });
const queue = new Queue('ingest', { connection: redis, prefix: uniquePrefix('queue-depth') });
let server: OpsServer | undefined;

afterAll(async () => {
  await server?.close();
  await queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
});

function depth(text: string, state: string): number | undefined {
  const line = new RegExp(
    `^marquee_queue_jobs\\{queue="ingest",state="${state}",service="q"\\} (\\S+)$`,
    'm',
  );
  const value = line.exec(text)?.[1];
  return value === undefined ? undefined : Number(value);
}

describe('registerQueueDepthGauge', () => {
  it('reads every state on each scrape; due = delayed jobs due within the window only', async () => {
    const data = { providerId: 'x' };
    for (const index of [1, 2, 3]) await queue.add('provider.sync', data, { jobId: `w${index}` });
    await queue.add('provider.sync', data, { jobId: 'p1', priority: 3 });
    // A retry and a rate-limited sync due in seconds: work for the workers now.
    await queue.add('provider.sync', data, { jobId: 'soon1', delay: 5_000 });
    await queue.add('provider.sync', data, { jobId: 'soon2', delay: 5_000 });
    // Work for later: a delayed job in an hour, and a Job Scheduler's next run in ten minutes.
    await queue.add('provider.sync', data, { jobId: 'later', delay: 3_600_000 });
    await queue.upsertJobScheduler(
      'every-hour',
      { every: 3_600_000, startDate: Date.now() + 600_000 },
      { name: 'provider.sync', data },
    );

    const registry = createMetricsRegistry('q');
    registerQueueDepthGauge(registry, [queue], { dueWindowSeconds: 30 });
    server = await startOpsServer({ registry, port: 0, host: '127.0.0.1', checks: {} });
    const scrape = async () => (await fetch(`${server!.url}/metrics`)).text();

    const first = await scrape();
    expect(
      Object.fromEntries(
        ['waiting', 'prioritized', 'active', 'delayed', 'due', 'failed'].map((state) => [
          state,
          depth(first, state),
        ]),
      ),
    ).toEqual({ waiting: 3, prioritized: 1, active: 0, delayed: 4, due: 2, failed: 0 });

    await queue.add('provider.sync', data, { jobId: 'w4' });
    expect(depth(await scrape(), 'waiting')).toBe(4);
  });
});
