// The watcher of `sync --wait` names each attempt as it was: a job that failed before the
// watcher read it after its `active` event (a 404 fails within milliseconds) is told as attempt
// 1 started and failed, never as an attempt 2. A real queue in Redis and a real QueueEvents,
// which starts reading the queue's event stream only after the job has already failed.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { QueueEvents, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { SyncRunRepository } from '@marquee/db';
import { IngestQueue } from '@marquee/queue';
import { createRedis } from '@marquee/redis';
import { uniquePrefix } from '@marquee/testing';
import { watchSync } from '../src/commands/sync.watcher.ts';

const prefix = uniquePrefix('cli-sync-watcher');
const redis = createRedis('redis://127.0.0.1:6379/0', 'blocking');
const pullerRedis = redis.duplicate();
const eventsRedis = redis.duplicate();
const queue = new IngestQueue({ connection: redis, prefix });
let puller: Worker;
// Not started until the test says so; then it reads the stream from its first event (the prefix
// is this file's own), as a watcher that was slow to get going would.
const events = new QueueEvents('ingest', {
  connection: eventsRedis,
  prefix,
  autorun: false,
  lastEventId: '0-0',
});

beforeAll(() => {
  puller = new Worker('ingest', null, { connection: pullerRedis, prefix });
});
afterAll(async () => {
  await events.close();
  await puller.close();
  await queue.queue.obliterate({ force: true });
  await queue.close();
  await pullerRedis.quit();
  eventsRedis.disconnect();
  await redis.quit();
});

it('a job that failed before the watcher read it is told as its one attempt', async () => {
  const provider = { id: randomUUID(), name: 'gone' };
  const job = await queue.enqueueManualSync(provider);
  const lines: string[] = [];
  const watching = watchSync({
    job,
    queue: queue.queue,
    provider,
    events,
    syncRuns: { findByJobId: () => Promise.resolve(null) } as unknown as SyncRunRepository,
    breakers: () => Promise.resolve(new Map()),
    io: { out: () => undefined, err: (line) => lines.push(line) },
    timeoutMs: 30_000,
  });
  // The worker takes the job and fails it for good, all before the watcher hears of it.
  const token = randomUUID();
  const taken = (await puller.getNextJob(token)) as Job | undefined;
  if (!taken || taken.id !== job.id) throw new Error(`took job ${taken?.id}, not ${job.id}`);
  await taken.moveToFailed(new UnrecoverableError('HTTP 404 Not Found'), token);
  expect(await queue.queue.getJobState(job.id ?? '')).toBe('failed');
  const reading = events.run();
  await expect(watching).rejects.toThrow('failed after 1 attempt(s): HTTP 404 Not Found');
  const attempts = job.opts.attempts ?? 1;
  expect(lines).toEqual([
    `attempt 1/${attempts}: started`,
    `attempt 1/${attempts} failed: HTTP 404 Not Found; breaker closed; not retried (permanent)`,
  ]);
  await events.close();
  await reading;
});
