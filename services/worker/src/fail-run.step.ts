import { DelayedError } from 'bullmq';
import { BreakerOpenError, FetchError } from '@marquee/fetch';
import { PayloadError, ProviderConfigError, UnknownProviderKindError } from '@marquee/providers';
import type { SyncContext, SyncDeps } from './sync.context.ts';
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
 * - permanent (4xx, unusable payload, bad config, unknown kind): fails for good;
 * - rate-limited with a known wait, when the job can be moved (`canDelay`: its lock token is
 *   known): delayed, no attempt spent; an open breaker is one of those, and the run is skipped;
 * - anything else is transient: retried with exponential backoff and jitter.
 */
function classifyFailure(error: unknown, canDelay: boolean): Failure {
  if (
    canDelay &&
    error instanceof FetchError &&
    error.classification === 'rate-limited' &&
    error.retryAfterMs !== undefined
  ) {
    const classification = error instanceof BreakerOpenError ? 'breaker-open' : 'rate-limited';
    return { classification, retryAfterMs: error.retryAfterMs };
  }
  return { classification: isPermanent(error) ? 'permanent' : 'transient' };
}

/** ISO 8601 to the second: what a person reads. */
function toSecond(at: Date): string {
  return at.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `ms` from now, rounded up to the second, so the time shown is never before it. */
function secondsFromNow(ms: number): Date {
  return new Date(Math.ceil((Date.now() + ms) / 1_000) * 1_000);
}

/** The sentence a run skipped by an open breaker keeps in its `error` column. */
function breakerSkipReason(provider: string, probeAt: Date): string {
  return `circuit breaker open (provider ${provider}); next probe at ${toSecond(probeAt)}`;
}

/**
 * The last step of a sync that failed: records the run and returns what BullMQ must act on
 * (throw it). A failure is logged once: delays here, where they are decided; failures by the
 * worker's `failed` event (logFailedJob), which knows when the retry comes. A failure of any
 * kind happens before the first write or leaves idempotent writes, so stored events are never
 * deleted or hidden by a bad fetch.
 */
export async function failRun(
  deps: Pick<SyncDeps, 'syncRuns'>,
  sync: SyncContext,
  error: unknown,
): Promise<Error> {
  const message = error instanceof Error ? error.message : String(error);
  const { job, token, provider, log } = sync;
  const failure = classifyFailure(error, token !== undefined);
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
        probeAt: toSecond(until),
      });
    } else {
      await deps.syncRuns.fail(sync.runId, message, sync.counts);
      log.warn('sync delayed', { ...fields, nextRetryAt: until.toISOString() });
    }
    await job.moveToDelayed(until.getTime(), token);
    return breakerOpen ? new BreakerSkipError() : new DelayedError();
  }
  await deps.syncRuns.fail(sync.runId, message, sync.counts);
  return failure.classification === 'permanent'
    ? new PermanentSyncError(message, provider.name, { cause: error })
    : new TransientSyncError(message, provider.name, { cause: error });
}
