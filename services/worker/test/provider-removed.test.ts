// `providers remove` while the provider's only request hangs (a site that sends headers, then
// drips its body, well within FETCH_TIMEOUT_MS): the request is aborted and the socket closed,
// the job fails for good as "was removed", named by the provider's name; it does not wait for
// the fetch deadline. A real BullMQ worker from the runtime, real PostgreSQL and Redis.
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import type { Worker } from 'bullmq';
import { ProviderRepository } from '@marquee/db';
import { eventually, startFeedServer, type FeedServer } from '@marquee/testing';
import { capturedLogger, startStepHarness, type StepHarness } from './step.harness.ts';

const captured = capturedLogger();
let harness: StepHarness;
let site: FeedServer;
let worker: Worker;
let requested: (() => void) | undefined;
let closedByWorker = false;

beforeAll(async () => {
  // A deadline no test run reaches: only the abort can end the request.
  harness = await startStepHarness(
    'provider_removed',
    { FETCH_TIMEOUT_MS: '600000' },
    { logger: captured.logger },
  );
  site = await startFeedServer((request, response) => {
    response.writeHead(200, { 'content-type': 'application/rss+xml' });
    response.write('<?xml version="1.0"?><rss><channel>');
    const drip = setInterval(() => response.write(' '), 200);
    request.socket.on('close', () => {
      clearInterval(drip);
      closedByWorker = true;
    });
    requested?.();
  });
  worker = harness.runtime.createWorker();
  void worker.run();
});
afterAll(async () => {
  await site.close();
  await harness.close();
});

it('aborts the request under way of a removed provider and fails the job as removed', async () => {
  const provider = await harness.addProvider({
    name: 'dripping',
    kind: 'xml-feed',
    url: `${site.url}/feed.xml`,
  });
  const arrived = new Promise<void>((resolve) => (requested = resolve));
  const job = await harness.queue.enqueueManualSync(provider);
  await arrived;
  await new ProviderRepository(harness.db).remove(provider.name);
  const id = job.id ?? '';
  await eventually(
    async () => ((await harness.queue.queue.getJobState(id)) === 'failed' ? true : undefined),
    30_000,
    `job ${id} to fail`,
  );
  const failed = await harness.queue.queue.getJob(id);
  expect(failed?.failedReason).toBe('provider dripping was removed; its sync stopped');
  await eventually(
    () => Promise.resolve(closedByWorker || undefined),
    10_000,
    'the request closed',
  );
  await eventually(
    () =>
      Promise.resolve(
        captured.lines().find((line) => line.jobId === id && line.level === 'error') ?? undefined,
      ),
    10_000,
    'the failure logged',
  );
  expect(captured.lines().filter((line) => line.jobId === id && line.level === 'error')).toEqual([
    expect.objectContaining({ message: 'sync failed permanently', provider: 'dripping' }),
  ]);
});
