import { DelayedError } from 'bullmq';
import { formatInstant } from '@marquee/config';
import { describeDatabaseError } from '@marquee/db';
import { BreakerOpenError, FetchError } from '@marquee/fetch';
import { PayloadError, ProviderConfigError, UnknownProviderKindError } from '@marquee/providers';
import type { SyncJob } from '@marquee/queue';
import type { DelayPolicy, SyncContext, SyncDeps } from './sync.context.ts';
import {
  BreakerSkipError,
  PermanentSyncError,
  TransientSyncError,
  type FailureClassification,
} from './sync-failure.error.ts';

interface Failure {
  classification: FailureClassification;
  /** For a delay: how long until the job runs again (no attempt spent). */
  retryAfterMs?: number;
  /** For a delay the provider imposed: the job's count of them, this one included. */
  rateLimitDelays?: number;
  /** What the run and the job say when it differs from the error's message. */
  message?: string;
}

function isPermanent(error: unknown): boolean {
  return (
    error instanceof PayloadError ||
    error instanceof UnknownProviderKindError ||
    error instanceof ProviderConfigError ||
    error instanceof RangeError ||
    (error instanceof FetchError && error.classification === 'permanent')
  );
}

/**
 * A wait the provider asked for (a 429 or 503 response carries its status) is capped at
 * RETRY_AFTER_MAX_SECONDS and counted on the job: past RATE_LIMIT_MAX_DELAYS the job fails for
 * good, so a provider that only ever answers 429 ends as a dead letter, not an endless loop.
 * The worker's own waits (host politeness) carry no status and are not counted.
 */
function rateLimitFailure(error: FetchError, job: SyncJob, delays: DelayPolicy): Failure {
  const retryAfterMs = Math.min(error.retryAfterMs ?? 0, delays.retryAfterMaxMs);
  if (error.status === undefined) return { classification: 'rate-limited', retryAfterMs };
  const made = job.data.rateLimitDelays ?? 0;
  if (made >= delays.maxDelays) {
    return {
      classification: 'permanent',
      message:
        `${error.message}; the provider rate-limited this sync ${made + 1} times, ` +
        `more than RATE_LIMIT_MAX_DELAYS (${delays.maxDelays}) allows: given up`,
    };
  }
  return { classification: 'rate-limited', retryAfterMs, rateLimitDelays: made + 1 };
}

/**
 * - permanent (4xx, unusable payload, bad config, unknown kind, too many rate limits): fails
 *   for good;
 * - rate-limited with a known wait, when the job can be moved (`canDelay`: its lock token is
 *   known): delayed, no attempt spent, and the run is `waiting`; an open breaker is one of those,
 *   and the run is skipped;
 * - anything else is transient: retried with exponential backoff and jitter.
 */
function classifyFailure(
  error: unknown,
  job: SyncJob,
  canDelay: boolean,
  delays: DelayPolicy,
): Failure {
  if (
    canDelay &&
    error instanceof FetchError &&
    error.classification === 'rate-limited' &&
    error.retryAfterMs !== undefined
  ) {
    if (error instanceof BreakerOpenError) {
      return { classification: 'breaker-open', retryAfterMs: error.retryAfterMs };
    }
    return rateLimitFailure(error, job, delays);
  }
  return { classification: isPermanent(error) ? 'permanent' : 'transient' };
}

/** `ms` from now, rounded up to the second, so the time shown is never before it. */
function secondsFromNow(ms: number): Date {
  return new Date(Math.ceil((Date.now() + ms) / 1_000) * 1_000);
}

/** The sentence a run skipped by an open breaker keeps in its `error` column. */
function breakerSkipReason(provider: string, probeAt: Date): string {
  return `circuit breaker open (provider ${provider}); next probe at ${formatInstant(probeAt)}`;
}

/**
 * The last step of a sync that failed: records the run and returns what BullMQ must act on
 * (throw it). A failure is logged once: delays here, where they are decided; failures by the
 * worker's `failed` event (logFailedJob), which knows when the retry comes. A failure of any
 * kind happens before the first write or leaves idempotent writes, so stored events are never
 * deleted or hidden by a bad fetch.
 */
export async function failRun(
  deps: Pick<SyncDeps, 'syncRuns' | 'delays'>,
  sync: SyncContext,
  error: unknown,
): Promise<Error> {
  const { job, token, provider, log } = sync;
  const failure = classifyFailure(error, job, token !== undefined, deps.delays);
  const message =
    failure.message ??
    describeDatabaseError(error) ??
    (error instanceof Error ? error.message : String(error));
  if (failure.retryAfterMs !== undefined && token !== undefined) {
    const breakerOpen = failure.classification === 'breaker-open';
    const until = breakerOpen
      ? secondsFromNow(failure.retryAfterMs)
      : new Date(Date.now() + failure.retryAfterMs);
    const fields = {
      classification: failure.classification,
      attempt: job.attemptsMade + 1,
      error: message,
    };
    if (breakerOpen) {
      await deps.syncRuns.skip(sync.runId, breakerSkipReason(provider.name, until));
      log.warn('circuit breaker open; sync skipped', {
        ...fields,
        breaker: provider.name,
        probeAt: formatInstant(until),
      });
    } else {
      // Not a failure: the job runs again at `until`, in a new run; this one says when.
      await deps.syncRuns.wait(sync.runId, message, until, sync.counts);
      if (failure.rateLimitDelays !== undefined) {
        await job.updateData({ ...job.data, rateLimitDelays: failure.rateLimitDelays });
      }
      // What `sync --wait` and Bull Board show until the job runs again: the counts kept so
      // far, and whose wait it is (a provider-imposed one is counted in rateLimitDelays).
      await job.updateProgress({
        ...sync.progress.snapshot(),
        stage: 'waiting',
        waiting: {
          for: failure.rateLimitDelays === undefined ? 'politeness' : 'retry-after',
          until: until.toISOString(),
        },
      });
      log.warn('sync delayed', {
        ...fields,
        nextRetryAt: until.toISOString(),
        rateLimitDelays: failure.rateLimitDelays,
      });
    }
    await job.moveToDelayed(until.getTime(), token);
    return breakerOpen ? new BreakerSkipError() : new DelayedError();
  }
  await deps.syncRuns.fail(sync.runId, message, sync.counts);
  return failure.classification === 'permanent'
    ? new PermanentSyncError(message, provider.name, { cause: error })
    : new TransientSyncError(message, provider.name, { cause: error });
}
