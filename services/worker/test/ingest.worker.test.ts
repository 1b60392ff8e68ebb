// Each failure is logged exactly once, by the worker's `failed` event, with the provider, the
// job, the attempt, the classification and when the retry comes: a real BullMQ worker from the
// runtime, a failing provider on 127.0.0.1, real PostgreSQL and Redis.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Worker } from 'bullmq';
import { ProviderRepository } from '@marquee/db';
import { eventually, startFeedServer, type FeedServer } from '@marquee/testing';
import { capturedLogger, startStepHarness, type StepHarness } from './step.harness.ts';

const captured = capturedLogger();
let harness: StepHarness;
let site: FeedServer;
let worker: Worker;
/** The held request's answer: `/held.xml` waits for the test to call it. */
let releaseHeld: (() => void) | undefined;
let heldArrived: (() => void) | undefined;

beforeAll(async () => {
  harness = await startStepHarness('ingest_worker', {}, { logger: captured.logger });
  site = await startFeedServer((request, response) => {
    if (request.url === '/gone.xml') response.writeHead(404).end('no such feed');
    else if (request.url === '/held.xml') {
      releaseHeld = () => response.writeHead(500).end('upstream broke');
      heldArrived?.();
    } else response.writeHead(500).end('upstream broke');
  });
  worker = harness.runtime.createWorker();
  void worker.run();
});
afterAll(async () => {
  await site.close();
  await harness.close();
});

async function failedJob(id: string) {
  await eventually(
    async () => ((await harness.queue.queue.getJobState(id)) === 'failed' ? true : undefined),
    15_000,
    `job ${id} to fail`,
  );
  // Every line about this job, whoever wrote it; the worker's `failed` event, which logs the
  // last one, may come a moment after the job's state changed in Redis.
  const lines = () => captured.lines().filter((line) => line.jobId === id);
  await eventually(
    () => Promise.resolve(lines().some((line) => line.level === 'error') || undefined),
    15_000,
    `the failure of job ${id} logged`,
  );
  return lines();
}

async function failed(path: string, attempts: number) {
  const provider = await harness.addProvider({ name: path.slice(1), url: `${site.url}${path}` });
  const job = await harness.queue.enqueueSync(
    { providerId: provider.id, trigger: 'manual' },
    { attempts, backoff: { type: 'fixed', delay: 300 } },
  );
  return failedJob(job.id ?? '');
}

describe('the worker logs each failure once', () => {
  it('a transient failure: one line per attempt, saying when the retry comes, then that none is left', async () => {
    const lines = await failed('/broken.xml', 2);
    expect(lines).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'sync failed; will retry',
        provider: 'broken.xml',
        attempt: 1,
        classification: 'transient',
        error: 'HTTP 500 Internal Server Error',
        nextRetryAt: expect.any(String) as unknown as string,
      }),
      expect.objectContaining({
        level: 'error',
        message: 'sync failed; no attempts left',
        provider: 'broken.xml',
        attempt: 2,
        classification: 'transient',
      }),
    ]);
    expect(lines[1]).not.toHaveProperty('nextRetryAt');
    const retryIn =
      Date.parse(String(lines[0]?.nextRetryAt)) - Date.parse(String(lines[0]?.timestamp));
    expect(retryIn).toBeGreaterThanOrEqual(250);
    expect(retryIn).toBeLessThan(2_000);
  });

  it('a permanent failure: one line, no retry', async () => {
    expect(await failed('/gone.xml', 3)).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'sync failed permanently',
        provider: 'gone.xml',
        attempt: 1,
        classification: 'permanent',
        error: expect.stringMatching(/404/) as unknown as string,
      }),
    ]);
  });

  it('a provider removed while its sync ran: the line names it by name, its id beside', async () => {
    const provider = await harness.addProvider({ name: 'held', url: `${site.url}/held.xml` });
    const arrived = new Promise<void>((resolve) => (heldArrived = resolve));
    const job = await harness.queue.enqueueManualSync(provider);
    await arrived;
    await new ProviderRepository(harness.db).remove(provider.name);
    releaseHeld?.();
    expect(await failedJob(job.id ?? '')).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'sync failed permanently',
        provider: 'held',
        providerId: provider.id,
        error: 'provider held was removed; its sync stopped',
      }),
    ]);
  });

  it('a job whose provider is gone before it ran: the name the job was made with', async () => {
    const ghost = { id: randomUUID(), name: 'ghost' };
    const job = await harness.queue.enqueueManualSync(ghost);
    expect(await failedJob(job.id ?? '')).toEqual([
      expect.objectContaining({
        message: 'sync failed permanently',
        provider: 'ghost',
        providerId: ghost.id,
      }),
    ]);
  });
});
