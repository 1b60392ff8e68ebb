import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { Logger } from '@marquee/logger';

/** How a failed sync is handled: see classifyFailure (fail-run.step.ts). */
export type FailureClassification = 'permanent' | 'transient' | 'rate-limited' | 'breaker-open';

/** An error class with what a failed sync's log line names: its classification and provider. */
function classifiedSyncError<C extends 'permanent' | 'transient'>(
  Base: new (message: string, options?: { cause?: unknown }) => Error,
  classification: C,
) {
  return class extends Base {
    readonly classification: C = classification;

    constructor(
      message: string,
      readonly provider: string,
      options?: { cause?: unknown },
    ) {
      super(message, options);
      // UnrecoverableError takes no options: the cause is set as Error would have set it.
      if (options?.cause !== undefined && !Object.hasOwn(this, 'cause')) this.cause = options.cause;
    }
  };
}

/** Fails the job for good (an UnrecoverableError for BullMQ). */
export class PermanentSyncError extends classifiedSyncError(UnrecoverableError, 'permanent') {}

/**
 * The provider was removed while its sync ran (`providers remove`): the walk stops before its
 * next request and the job fails for good; the provider's runs and events went with it.
 */
export class ProviderRemovedError extends UnrecoverableError {
  constructor(readonly provider: string) {
    super(`provider ${provider} was removed; its sync stopped`);
    this.name = 'ProviderRemovedError';
  }
}

/** Retried by BullMQ with backoff. */
export class TransientSyncError extends classifiedSyncError(Error, 'transient') {
  override name = 'TransientSyncError';
}

/** The job was moved to delayed because the provider's circuit breaker is open (no attempt spent). */
export class BreakerSkipError extends DelayedError {}

function classificationOf(error: Error): FailureClassification {
  if (error instanceof PermanentSyncError || error instanceof TransientSyncError) {
    return error.classification;
  }
  return error instanceof UnrecoverableError ? 'permanent' : 'transient';
}

/**
 * The one log line of a failed job (the worker's `failed` event, after BullMQ moved the job):
 * delays (rate limits, an open breaker) are not failures for BullMQ and are logged where they
 * are decided. `nextRetryAt` is absent when the job failed for good.
 */
export function logFailedJob(logger: Logger, job: Job | undefined, error: Error): void {
  const classification = classificationOf(error);
  const data = job?.data as { providerId?: unknown; provider?: unknown } | undefined;
  // People read the provider's name; the id, when the job has one, finds it again after a rename.
  const provider =
    error instanceof PermanentSyncError ||
    error instanceof TransientSyncError ||
    error instanceof ProviderRemovedError
      ? error.provider
      : (data?.provider ?? data?.providerId);
  // BullMQ sets finishedOn when the job failed for good, and `delay` to the retry's backoff.
  const retrying = job !== undefined && job.finishedOn === undefined;
  const fields = {
    provider,
    ...(typeof data?.providerId === 'string' && { providerId: data.providerId }),
    jobId: job?.id,
    attempt: job?.attemptsMade,
    classification,
    error: error.message,
    ...(retrying && { nextRetryAt: new Date(Date.now() + job.delay).toISOString() }),
  };
  if (retrying) logger.warn('sync failed; will retry', fields);
  else if (classification === 'permanent') logger.error('sync failed permanently', fields);
  else logger.error('sync failed; no attempts left', fields);
}
