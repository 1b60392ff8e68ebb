import { DelayedError, UnrecoverableError } from 'bullmq';
import type { SearchCache } from '@marquee/cache';
import type {
  EventRepository,
  ProviderRepository,
  RejectSample,
  SyncCounts,
  SyncRunRepository,
} from '@marquee/db';
import type { Logger } from '@marquee/logger';
import {
  FetchError,
  getProviderKind,
  PayloadError,
  parseProviderConfig,
  ProviderConfigError,
  UnknownProviderKindError,
  type fetchPayload,
} from '@marquee/providers';
import { InvalidJobError, parsePayload, type SyncJob } from '@marquee/queue';

export interface SyncProcessorOptions {
  providers: ProviderRepository;
  events: EventRepository;
  syncRuns: SyncRunRepository;
  cache: SearchCache;
  fetch: typeof fetchPayload;
  fetchOptions: Omit<Parameters<typeof fetchPayload>[1], 'headers'>;
  logger: Logger;
  now?: () => Date;
}

export type SyncStage = 'fetching' | 'parsing' | 'writing' | 'done';

/** What a sync reports as BullMQ progress (`sync --wait` prints it). */
export interface SyncProgress extends Partial<SyncCounts> {
  stage: SyncStage;
}

/** The job's return value; also kept on the sync run. */
export interface SyncSummary extends SyncCounts {
  provider: string;
  syncRunId: string;
  /** True when the catalog changed, i.e. the API cache was invalidated. */
  changed: boolean;
  skipped?: 'disabled';
}

/**
 * One provider sync: fetch → parse → upsert in bulk → record the run → invalidate the API cache
 * when (and only when) something changed.
 *
 * Failures are classified for BullMQ, never swallowed:
 * - permanent (4xx, unusable payload, bad config, unknown provider) → UnrecoverableError;
 * - rate-limited with a known wait → the job is moved to delayed (no attempt consumed);
 * - anything else is transient → rethrown, retried with exponential backoff and jitter.
 * A failure of any kind happens before the first write or leaves idempotent writes, so stored
 * events are never deleted or hidden by a bad fetch.
 */
export function createSyncProcessor(options: SyncProcessorOptions) {
  const now = options.now ?? (() => new Date());

  return async function processSync(job: SyncJob, token?: string): Promise<SyncSummary> {
    let payload;
    try {
      payload = parsePayload('provider.sync', job.data);
    } catch (error) {
      if (error instanceof InvalidJobError) throw new UnrecoverableError(error.message);
      throw error;
    }
    const provider = await options.providers.findById(payload.providerId);
    if (!provider) throw new UnrecoverableError(`provider ${payload.providerId} no longer exists`);
    const log = options.logger.child({ provider: provider.name, jobId: job.id });
    const run = await options.syncRuns.start(provider.id, payload.trigger, job.id);
    const counts: SyncCounts = { fetched: 0, parsed: 0, upserted: 0, unchanged: 0, rejected: 0 };
    if (!provider.enabled) {
      await options.syncRuns.succeed(run.id, counts, []);
      log.info('provider disabled; sync skipped');
      return {
        ...counts,
        provider: provider.name,
        syncRunId: run.id,
        changed: false,
        skipped: 'disabled',
      };
    }

    try {
      const kind = getProviderKind(provider.kind);
      const config = parseProviderConfig(kind, provider.config);
      await job.updateProgress({ stage: 'fetching' } satisfies SyncProgress);
      const parsed = await kind.ingest({
        url: provider.url,
        config,
        timezone: provider.timezone,
        fetch: (url, fetchOptions) =>
          options.fetch(url, { ...options.fetchOptions, ...fetchOptions }),
      });
      counts.fetched = parsed.fetched;
      counts.parsed = parsed.events.length;
      counts.rejected = parsed.rejected;
      await job.updateProgress({ stage: 'writing', ...counts } satisfies SyncProgress);

      const seenAt = now();
      const { written } = await options.events.upsertMany(provider, parsed.events, seenAt);
      await options.events.markSeen(
        provider.id,
        parsed.events.map((event) => event.externalKey),
        seenAt,
      );
      counts.upserted = written;
      counts.unchanged = parsed.events.length - written;
      if (written > 0) await options.cache.invalidate();

      await options.syncRuns.succeed(run.id, counts, parsed.rejects satisfies RejectSample[]);
      await job.updateProgress({ stage: 'done', ...counts } satisfies SyncProgress);
      log.info('sync succeeded', { ...counts, rejects: parsed.rejects.slice(0, 5) });
      return { ...counts, provider: provider.name, syncRunId: run.id, changed: written > 0 };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await options.syncRuns.fail(run.id, message, counts);
      if (
        error instanceof FetchError &&
        error.classification === 'rate-limited' &&
        error.retryAfterMs !== undefined &&
        token
      ) {
        log.warn('provider rate-limited; sync delayed', { retryAfterMs: error.retryAfterMs });
        await job.moveToDelayed(Date.now() + error.retryAfterMs, token);
        throw new DelayedError();
      }
      if (isPermanent(error)) {
        log.error('sync failed permanently', { error: message });
        throw new UnrecoverableError(message);
      }
      log.warn('sync failed; will retry', { error: message, attempt: job.attemptsMade + 1 });
      throw error;
    }
  };
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
