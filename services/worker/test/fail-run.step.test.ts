// The fail step against real PostgreSQL and real, locked BullMQ jobs: what each failure records,
// what it hands BullMQ, and what it logs.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { DelayedError, UnrecoverableError } from 'bullmq';
import type { Provider } from '@marquee/db';
import { BreakerOpenError, FetchError } from '@marquee/fetch';
import { PayloadError } from '@marquee/providers';
import { failRun } from '../src/fail-run.step.ts';
import {
  BreakerSkipError,
  PermanentSyncError,
  TransientSyncError,
} from '../src/sync-failure.error.ts';
import type { SyncContext } from '../src/sync.context.ts';
import { capturedLogger, startStepHarness, type StepHarness } from './step.harness.ts';

const captured = capturedLogger();
let harness: StepHarness;
let provider: Provider;

beforeAll(async () => {
  harness = await startStepHarness('fail_run', {}, { logger: captured.logger });
  provider = await harness.addProvider({ name: 'acme' });
});
afterAll(() => harness.close());

const runOf = (sync: SyncContext) => harness.db.syncRun.findUnique({ where: { id: sync.runId } });
const linesOf = (sync: SyncContext) =>
  captured.lines().filter((line) => line.jobId === sync.job.id);
const jobOf = (sync: SyncContext) => harness.queue.queue.getJob(sync.job.id ?? '');
/**
 * When a delayed job becomes due: its score in the delayed set (BullMQ keeps the due time there,
 * times 0x1000 plus a counter). A job's `timestamp + delay` is not it: the delay counts from the
 * move, the timestamp from the job's creation.
 */
async function dueAt(sync: SyncContext): Promise<number> {
  const score = await harness.redis.zscore(harness.queue.queue.toKey('delayed'), sync.job.id ?? '');
  return Math.floor(Number(score) / 0x1000);
}

describe('failRun', () => {
  it('an open breaker: the run is skipped with a sentence naming the breaker and the probe, the job waits for the probe', async () => {
    const sync = await harness.begin(provider);
    const before = Date.now();
    const thrown = await failRun(
      harness.runtime.deps,
      sync,
      new BreakerOpenError('acme', 60_000, 'HTTP 500'),
    );
    expect(thrown).toBeInstanceOf(BreakerSkipError);
    expect(thrown).toBeInstanceOf(DelayedError);
    const run = await runOf(sync);
    expect(run?.status).toBe('skipped');
    const probe =
      /^circuit breaker open \(provider acme\); next probe at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)$/.exec(
        run?.error ?? '',
      );
    expect(probe).not.toBeNull();
    const probeAt = Date.parse(probe?.[1] ?? '');
    expect(probeAt).toBeGreaterThanOrEqual(before + 59_000);
    expect(probeAt).toBeLessThanOrEqual(Date.now() + 61_000);
    const job = await jobOf(sync);
    expect(await job?.getState()).toBe('delayed');
    expect(await dueAt(sync)).toBeGreaterThanOrEqual(before + 59_000);
    expect(job?.attemptsMade).toBe(0);
    // One line, naming the breaker and its probe; never "rate-limited".
    expect(linesOf(sync)).toEqual([
      expect.objectContaining({
        level: 'warn',
        message: 'circuit breaker open; sync skipped',
        provider: 'acme',
        breaker: 'acme',
        probeAt: probe?.[1],
        classification: 'breaker-open',
        attempt: 1,
      }),
    ]);
  });

  it('a rate limit with a known wait: the run waits (not failed) until the job is due, the job is delayed, logged once', async () => {
    const sync = await harness.begin(provider);
    const error = new FetchError('HTTP 429 Too Many Requests', 'rate-limited', {
      status: 429,
      retryAfterMs: 2_000,
    });
    const thrown = await failRun(harness.runtime.deps, sync, error);
    expect(thrown).toBeInstanceOf(DelayedError);
    expect(thrown).not.toBeInstanceOf(BreakerSkipError);
    const run = await runOf(sync);
    expect(run).toMatchObject({ status: 'waiting', error: 'HTTP 429 Too Many Requests' });
    // The run says when the job resumes: the time it was delayed to.
    expect(run?.resumesAt?.getTime()).toBe(await dueAt(sync));
    expect(await (await jobOf(sync))?.getState()).toBe('delayed');
    expect(linesOf(sync)).toEqual([
      expect.objectContaining({
        message: 'sync delayed',
        classification: 'rate-limited',
        attempt: 1,
        nextRetryAt: expect.any(String) as unknown as string,
      }),
    ]);
  });

  it('permanent and transient failures: the run fails; BullMQ gets what to do, the worker logs it (not here)', async () => {
    const permanent = await harness.begin(provider);
    const cause = new PayloadError('payload is not well-formed XML');
    const thrown = await failRun(harness.runtime.deps, permanent, cause);
    expect(thrown).toBeInstanceOf(PermanentSyncError);
    expect(thrown).toBeInstanceOf(UnrecoverableError);
    expect(thrown).toMatchObject({ message: cause.message, provider: 'acme', cause });
    expect(await runOf(permanent)).toMatchObject({ status: 'failed', error: cause.message });

    const transient = await harness.begin(provider);
    const reset = new FetchError('request failed: ECONNRESET', 'transient');
    const again = await failRun(harness.runtime.deps, transient, reset);
    expect(again).toBeInstanceOf(TransientSyncError);
    expect(again).not.toBeInstanceOf(UnrecoverableError);
    expect(again).toMatchObject({ message: reset.message, provider: 'acme', cause: reset });
    expect([...linesOf(permanent), ...linesOf(transient)]).toEqual([]);
  });

  it('without a lock token the job cannot be moved: a rate limit is retried as transient', async () => {
    const sync = await harness.begin(provider, false);
    const error = new FetchError('HTTP 429', 'rate-limited', { retryAfterMs: 1_000 });
    expect(await failRun(harness.runtime.deps, sync, error)).toBeInstanceOf(TransientSyncError);
    expect(await runOf(sync)).toMatchObject({ status: 'failed' });
  });
});
