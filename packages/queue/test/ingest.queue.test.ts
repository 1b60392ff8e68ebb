// The producer side against the real Redis, under a queue prefix of this file's own.
import { afterAll, describe, expect, it } from '@jest/globals';
import { Redis } from 'ioredis';
import { uniquePrefix } from '@marquee/testing';
import { IngestQueue, InvalidJobError, SYNC_JOB_OPTIONS } from '../src/index.ts';

const PROVIDER_ID = '3f1d2c4b-5a69-4788-9a0b-1c2d3e4f5a6b';
const redis = new Redis('redis://127.0.0.1:6379/0', { maxRetriesPerRequest: null });
const prefix = uniquePrefix('ingest-queue');
const queue = new IngestQueue({ connection: redis, prefix });

afterAll(async () => {
  await queue.queue.obliterate({ force: true });
  await queue.close();
  await redis.quit();
});

describe('IngestQueue', () => {
  it('keeps a bounded history: finished jobs go by age and by count', () => {
    for (const keep of [SYNC_JOB_OPTIONS.removeOnComplete, SYNC_JOB_OPTIONS.removeOnFail]) {
      expect(keep).toEqual({ age: expect.any(Number), count: expect.any(Number) });
      const { age, count } = keep as { age: number; count: number };
      expect(age).toBeGreaterThan(0);
      expect(age).toBeLessThanOrEqual(90 * 24 * 3600);
      expect(count).toBeGreaterThan(0);
      expect(count).toBeLessThanOrEqual(10_000);
    }
  });

  it('stores a sync with the catalog’s options, what the caller adds on top', async () => {
    const job = await queue.enqueueSync(
      { providerId: PROVIDER_ID, trigger: 'manual' },
      { delay: 60_000 },
    );
    const stored = await queue.queue.getJob(job.id!);
    expect(stored?.name).toBe('provider.sync');
    expect(stored?.data).toEqual({ providerId: PROVIDER_ID, trigger: 'manual' });
    expect(stored?.opts).toMatchObject({
      attempts: SYNC_JOB_OPTIONS.attempts,
      backoff: SYNC_JOB_OPTIONS.backoff,
      removeOnComplete: SYNC_JOB_OPTIONS.removeOnComplete,
      removeOnFail: SYNC_JOB_OPTIONS.removeOnFail,
      delay: 60_000,
    });
    await stored?.remove();
  });

  it('refuses a bad payload before anything reaches Redis', async () => {
    await expect(
      queue.enqueueSync({ providerId: 'not-a-uuid', trigger: 'manual' }),
    ).rejects.toBeInstanceOf(InvalidJobError);
    expect(await queue.queue.count()).toBe(0);
  });

  it('round-trips a provider’s schedule: one per provider, named after it, updated in place, removed once', async () => {
    await queue.upsertSchedule({ id: PROVIDER_ID, name: 'acme', everySeconds: 3_600 });
    await queue.upsertSchedule({ id: PROVIDER_ID, name: 'acme', everySeconds: 300 });
    // A Job Scheduler Marquee did not make is not a provider's.
    await queue.queue.upsertJobScheduler('someone-else', { every: 60_000 });
    expect(await queue.listSchedules()).toEqual([
      {
        id: 'sync-acme',
        providerId: PROVIDER_ID,
        providerName: 'acme',
        everyMs: 300_000,
        nextJobId: expect.stringMatching(/^repeat:sync-acme:\d+$/) as unknown,
      },
    ]);
    expect(await queue.removeSchedule(IngestQueue.scheduleId('acme'))).toBe(true);
    expect(await queue.removeSchedule(IngestQueue.scheduleId('acme'))).toBe(false);
    expect(await queue.listSchedules()).toEqual([]);
    await queue.queue.removeJobScheduler('someone-else');
  });
});
