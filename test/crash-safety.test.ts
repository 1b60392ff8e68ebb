// Issue 4, crash safety: real worker processes (services/worker/src/main.ts) are stopped with
// SIGTERM or killed with SIGKILL in the middle of a sync; another worker must finish the job and
// the catalog must end as a clean run leaves it.
import type { ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Db, Provider } from '@marquee/db';
import type { IngestQueue } from '@marquee/queue';
import {
  eventually,
  feverFeed,
  feverProvider,
  startFeedServer,
  startQueueStack,
  startTs,
  workerProcessEnv,
  type FeedServer,
  type LongRunning,
  type QueueStack,
} from '@marquee/testing';

const FEED = feverFeed(25);
const SHUTDOWN_TIMEOUT_MS = 1_500;

let stack: QueueStack;
let db: Db;
let queue: IngestQueue;
let env: NodeJS.ProcessEnv;
let feed: FeedServer;
/** Requests the feed holds without answering until `release()`. */
const held: ServerResponse[] = [];
let holding = true;
const workers: LongRunning[] = [];

function release(): void {
  holding = false;
  for (const response of held.splice(0)) response.writeHead(200).end(FEED);
}

function startWorker(): LongRunning {
  const worker = startTs('services/worker/src/main.ts', env);
  workers.push(worker);
  return worker;
}

async function stopWorkers(): Promise<void> {
  await Promise.all(workers.splice(0).map((worker) => worker.stop(5_000)));
}

async function waitForHeldRequest(): Promise<void> {
  await eventually(
    () => Promise.resolve(held.length > 0 ? true : undefined),
    20_000,
    'the feed request',
  );
}

async function catalog(provider: Provider) {
  // What a clean run determines; ids differ by provider name, timestamps by when it ran.
  return db.$queryRaw<Record<string, unknown>[]>`
    SELECT external_key, title, start_at, end_at, min_price::text, max_price::text, content_hash,
           ever_online, online
    FROM events WHERE provider_id = ${provider.id}::uuid ORDER BY external_key`;
}

beforeAll(async () => {
  stack = await startQueueStack('crash');
  const { prefix } = stack;
  ({ db, queue } = stack);
  feed = await startFeedServer((_request, response) => {
    if (holding) held.push(response);
    else response.writeHead(200).end(FEED);
  });
  env = workerProcessEnv(stack.database.url, prefix, {
    LOG_LEVEL: 'warn',
    WORKER_CONCURRENCY: '1',
    SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS),
    WORKER_LOCK_DURATION_MS: '2000',
    WORKER_STALLED_INTERVAL_MS: '1000',
    FETCH_TIMEOUT_MS: '20000',
  });
});

afterAll(async () => {
  await stopWorkers();
  release();
  await feed.close();
  await stack.close();
});

async function addProvider(name: string): Promise<Provider> {
  return stack.providers.create(
    feverProvider(name, `${feed.url}/${name}.xml`, { timezone: 'Europe/Madrid' }),
  );
}

/** Starts a worker process and a sync of a new provider `name`, and waits for its request. */
async function syncHeldBy(
  name: string,
): Promise<{ provider: Provider; worker: LongRunning; jobId: string }> {
  holding = true;
  const provider = await addProvider(name);
  const worker = startWorker();
  const job = await queue.enqueueSync({ providerId: provider.id, trigger: 'manual' });
  await waitForHeldRequest();
  return { provider, worker, jobId: job.id ?? '' };
}

describe('crash safety', () => {
  it('SIGTERM: a worker stuck in a slow sync exits within SHUTDOWN_TIMEOUT_MS and another worker completes the job', async () => {
    const { provider, worker: first, jobId } = await syncHeldBy('slow');

    const signalled = Date.now();
    // Exit 0 before the SIGKILL, 5 s before the held request's FETCH_TIMEOUT_MS could end the
    // sync: the worker handed the job back at its deadline and did not wait for it.
    const code = await first.stop(15_000);
    const tookMs = Date.now() - signalled;
    expect(code).toBe(0);
    expect(first.output()).toMatch(/shutdown deadline reached; handing active jobs back/);
    // It waited for the job until the deadline first.
    expect(tookMs).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS - 100);

    release();
    startWorker();
    const summary = await stack.completed(jobId);
    expect(summary).toMatchObject({ provider: 'slow', parsed: 25, upserted: 25 });
    expect(await db.event.count({ where: { providerId: provider.id } })).toBe(25);
    expect((await db.syncRun.findMany({ where: { jobId } })).map((run) => run.status)).toEqual(
      expect.arrayContaining(['failed', 'succeeded']),
    );
    // Handed back, not failed: the second run was not a retry.
    expect((await queue.queue.getJob(jobId))?.attemptsMade).toBe(1);
    await stopWorkers();
  });

  it('SIGKILL mid-sync: the stalled job is picked up by another worker and the catalog equals a clean run', async () => {
    const { provider, worker: victim, jobId } = await syncHeldBy('killed');
    const taken = await queue.queue.getJob(jobId);
    expect(await taken?.getState()).toBe('active');
    expect(taken?.attemptsStarted).toBe(1);
    victim.child.kill('SIGKILL');
    await eventually(
      () => Promise.resolve(victim.child.signalCode === 'SIGKILL' ? true : undefined),
      5_000,
      'the worker to die',
    );
    release();

    startWorker();
    const summary = await stack.completed(jobId);
    expect(summary).toMatchObject({ provider: 'killed', parsed: 25 });
    const reprocessed = await queue.queue.getJob(jobId);
    // Handed out again after the stalled-job check found the killed worker's lock expired.
    // (A later start may also be a politeness or breaker delay, which spends no attempt.)
    expect(reprocessed?.stalledCounter).toBe(1);
    expect(reprocessed?.attemptsStarted).toBeGreaterThanOrEqual(2);

    const clean = await addProvider('clean');
    const cleanJob = await queue.enqueueSync({ providerId: clean.id, trigger: 'manual' });
    await stack.completed(cleanJob.id ?? '');
    const killedCatalog = await catalog(provider);
    expect(killedCatalog).toHaveLength(25);
    expect(killedCatalog).toEqual(await catalog(clean));
    // The killed attempt's run is closed as interrupted, not left "running" forever.
    const runs = await db.syncRun.findMany({
      where: { jobId },
      orderBy: { startedAt: 'asc' },
    });
    // The killed attempt's run, possibly runs put off by politeness (the dead worker's host lease
    // lives until it expires: 'waiting'), then the run that completed.
    expect(runs[0]).toMatchObject({
      status: 'failed',
      error: expect.stringMatching(/^interrupted/),
    });
    expect(runs.at(-1)?.status).toBe('succeeded');
    for (const delayed of runs.slice(1, -1)) {
      expect(delayed).toMatchObject({
        status: 'waiting',
        error: expect.stringMatching(/is busy \(politeness limit\)/),
      });
    }
    await stopWorkers();
  });
});
