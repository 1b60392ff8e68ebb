// Each failure is logged exactly once, by the worker's `failed` event, with the provider, the
// job, the attempt, the classification and when the retry comes: a real BullMQ worker from the
// runtime, a failing provider on 127.0.0.1, real PostgreSQL and Redis.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Worker } from 'bullmq';
import { eventually, startFeedServer, type FeedServer } from '@marquee/testing';
import { capturedLogger, startStepHarness, type StepHarness } from './step.harness.ts';

const captured = capturedLogger();
let harness: StepHarness;
let site: FeedServer;
let worker: Worker;

beforeAll(async () => {
  harness = await startStepHarness('ingest_worker', {}, { logger: captured.logger });
  site = await startFeedServer((request, response) => {
    if (request.url === '/gone.xml') response.writeHead(404).end('no such feed');
    else response.writeHead(500).end('upstream broke');
  });
  worker = harness.runtime.createWorker();
  void worker.run();
});
afterAll(async () => {
  await site.close();
  await harness.close();
});

async function failed(path: string, attempts: number) {
  const provider = await harness.addProvider({ name: path.slice(1), url: `${site.url}${path}` });
  const job = await harness.queue.enqueueSync(
    { providerId: provider.id, trigger: 'manual' },
    { attempts, backoff: { type: 'fixed', delay: 300 } },
  );
  const id = job.id ?? '';
  await eventually(
    async () => ((await harness.queue.queue.getJobState(id)) === 'failed' ? true : undefined),
    15_000,
    `job ${id} to fail`,
  );
  // Every line about this job, whoever wrote it.
  return captured.lines().filter((line) => line.jobId === id);
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
});
