// The begin-run step against real PostgreSQL and Redis jobs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { UnrecoverableError } from 'bullmq';
import { FetchStateRepository } from '@marquee/db';
import type { SyncJob } from '@marquee/queue';
import { beginRun } from '../src/begin-run.step.ts';
import { startStepHarness, type StepHarness } from './step.harness.ts';

let harness: StepHarness;

beforeAll(async () => {
  harness = await startStepHarness('begin_run');
});
afterAll(() => harness.close());

async function runsOf(providerId: string) {
  return harness.db.syncRun.findMany({ where: { providerId }, orderBy: { startedAt: 'asc' } });
}

describe('beginRun', () => {
  it('an invalid payload or a provider that no longer exists fails for good, with no run', async () => {
    const bad = (await harness.queue.queue.add('provider.sync', {
      providerId: 'not-a-uuid',
      trigger: 'manual',
    })) as SyncJob;
    await expect(beginRun(harness.runtime.deps, bad, undefined)).rejects.toThrow(
      new UnrecoverableError('invalid provider.sync payload: providerId: Invalid UUID'),
    );
    const gone = (await harness.queue.queue.add('provider.sync', {
      providerId: '00000000-0000-4000-8000-00000000dead',
      trigger: 'manual',
    })) as SyncJob;
    const error = await beginRun(harness.runtime.deps, gone, undefined).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnrecoverableError);
    expect((error as Error).message).toMatch(/no longer exists/);
    expect(await harness.db.syncRun.count()).toBe(0);
    await Promise.all([bad, gone].map((job) => harness.queue.queue.remove(job.id ?? '')));
  });

  it("a disabled provider's run ends here: succeeded, nothing counted, summary says skipped", async () => {
    const provider = await harness.addProvider({ name: 'off' });
    await harness.db.provider.update({ where: { id: provider.id }, data: { enabled: false } });
    const { job } = await harness.takeJob(provider);
    const start = await beginRun(harness.runtime.deps, job, undefined);
    expect(start).toEqual({
      finished: expect.objectContaining({ provider: 'off', skipped: 'disabled', changed: false }),
    });
    expect(await runsOf(provider.id)).toEqual([
      expect.objectContaining({ status: 'succeeded', fetched: 0, upserted: 0, jobId: job.id }),
    ]);
  });

  it('starts a run, closes the same job’s run left running, and reads the applied payload', async () => {
    const provider = await harness.addProvider({ name: 'on' });
    await new FetchStateRepository(harness.db).save(provider.id, {
      etag: '"v1"',
      lastModified: null,
      contentHash: 'abc',
      parsedCount: 7,
      seenMarkedAt: new Date('2030-01-01T00:00:00Z'),
    });
    const { job, token } = await harness.takeJob(provider);
    // A worker killed mid-sync left this run of the job "running".
    await harness.db.syncRun.create({
      data: { providerId: provider.id, jobId: job.id ?? '', trigger: 'manual', status: 'running' },
    });
    const start = await beginRun(harness.runtime.deps, job, token);
    if (!('sync' in start)) throw new Error('ended at beginRun');
    const { sync } = start;
    expect(sync).toMatchObject({
      token,
      provider: { id: provider.id },
      applied: { contentHash: 'abc', parsedCount: 7, etag: '"v1"' },
      counts: { fetched: 0, parsed: 0, upserted: 0, unchanged: 0, rejected: 0 },
    });
    const runs = await runsOf(provider.id);
    expect(runs.map((run) => [run.status, run.error?.slice(0, 11) ?? null])).toEqual([
      ['failed', 'interrupted'],
      ['running', null],
    ]);
    expect(runs[1]?.id).toBe(sync.runId);
  });
});
