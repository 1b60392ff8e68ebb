import { DelayedError, UnrecoverableError } from 'bullmq';
import type { SearchCache } from '@marquee/cache';
import type {
  EventRepository,
  FetchStateRepository,
  ProviderRepository,
  RejectSample,
  SyncCounts,
  SyncRunRepository,
} from '@marquee/db';
import type { Logger } from '@marquee/logger';
import {
  assertContentType,
  contentFamilyOf,
  FetchError,
  getProviderKind,
  isStreamingKind,
  PayloadError,
  parseProviderConfig,
  ProviderConfigError,
  UnknownProviderKindError,
  type fetchPayload,
} from '@marquee/providers';
import { InvalidJobError, parsePayload, type SyncJob } from '@marquee/queue';
import { FetchTracker, judgeShrink, NotModifiedSignal } from './fetch.tracker.ts';
import { ingestStreamed, type StreamedIngest } from './streamed.writer.ts';

export interface SyncProcessorOptions {
  providers: ProviderRepository;
  events: EventRepository;
  syncRuns: SyncRunRepository;
  cache: SearchCache;
  fetch: typeof fetchPayload;
  fetchOptions: Omit<Parameters<typeof fetchPayload>[1], 'headers'>;
  logger: Logger;
  now?: () => Date;
  /** Circuit breaker per provider (BreakerRegistry); without it, fetches are not guarded. */
  breakers?: {
    run<T>(provider: { id: string; name: string }, call: () => Promise<T>): Promise<T>;
  };
  /** Conditional GET, content hash and the shrink guard's reference; without it, all are off. */
  fetchState?: FetchStateRepository;
  /** SHRINK_GUARD_RATIO (default 0.5). */
  shrinkGuardRatio?: number;
  /**
   * Per-host concurrency and spacing shared by all workers (HostLeaseGate). It wraps the breaker:
   * waiting for a host is not the provider's failure.
   */
  hostGate?: { around<T>(url: string, call: () => Promise<T>): Promise<T> };
  /** robots.txt check (RobotsGuard), made before every fetch of an HTML kind. */
  robots?: { assertAllowed(url: string): Promise<void> };
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
    // Delivery is at least once: a run left "running" by a stopped or killed worker ends here.
    if (job.id) await options.syncRuns.closeInterrupted(provider.id, job.id);
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

    const fetchState = (await options.fetchState?.find(provider.id)) ?? null;
    try {
      const kind = getProviderKind(provider.kind);
      const config = parseProviderConfig(kind, provider.config);
      await job.updateProgress({ stage: 'fetching' } satisfies SyncProgress);
      // `parse` marks a single-document kind (singleDocumentKind): only there does a 304 of the
      // provider's URL mean the whole payload is unchanged.
      const tracker = new FetchTracker(
        provider.url,
        fetchState,
        options.fetchState !== undefined && 'parse' in kind,
      );
      const family = contentFamilyOf(kind.kind);
      const fetchOne = async (url: string, headers: Record<string, string>) => {
        const page = await options.fetch(url, { ...options.fetchOptions, headers });
        if (family && page.status !== 304)
          assertContentType(family, page.headers['content-type'], url);
        return page;
      };
      let parsed;
      // A streaming kind writes while it parses (streamed.writer.ts); its events are not returned.
      let streamed: StreamedIngest | undefined;
      try {
        const context = {
          url: provider.url,
          config,
          timezone: provider.timezone,
          fetch: tracker.wrap(async (url, headers) => {
            if (family === 'html') await options.robots?.assertAllowed(url);
            const guarded = () =>
              options.breakers
                ? options.breakers.run(provider, () => fetchOne(url, headers))
                : fetchOne(url, headers);
            return options.hostGate ? options.hostGate.around(url, guarded) : guarded();
          }),
        };
        if (isStreamingKind(kind)) {
          streamed = await ingestStreamed(kind, context, {
            events: options.events,
            provider,
            seenAt: now(),
            beforeFirstWrite: async () => {
              if (fetchState?.contentHash) await options.fetchState?.forgetPayload(provider.id);
            },
            // The same check as after parsing (below), made before writing anything.
            unchanged: () =>
              options.fetchState !== undefined &&
              'parse' in kind &&
              fetchState?.contentHash === tracker.contentHash(),
          });
          parsed = streamed.parsed;
        } else {
          parsed = await kind.ingest(context);
        }
      } catch (error) {
        if (!(error instanceof NotModifiedSignal)) throw error;
        counts.unchanged = fetchState?.parsedCount ?? 0;
        await options.syncRuns.succeed(run.id, counts, [], 'unchanged');
        log.info('provider answered 304 Not Modified; nothing written');
        return { ...counts, provider: provider.name, syncRunId: run.id, changed: false };
      }
      const parsedCount = streamed?.parsedCount ?? parsed.events.length;
      const parsedKeys = () => streamed?.keys ?? parsed.events.map((event) => event.externalKey);
      counts.fetched = parsed.fetched;
      counts.parsed = parsedCount;
      counts.rejected = parsed.rejected;
      const rejects = parsed.rejects satisfies RejectSample[];
      const contentHash = tracker.contentHash();
      const applied = {
        etag: tracker.etag,
        lastModified: tracker.lastModified,
        contentHash,
        parsedCount,
      };
      if (options.fetchState && fetchState?.contentHash === contentHash) {
        counts.unchanged = parsedCount;
        // "Last seen" still advances: markSeen writes a row at most once per granularity.
        await options.events.markSeen(provider.id, parsedKeys(), now());
        await options.fetchState.save(provider.id, applied);
        await options.syncRuns.succeed(run.id, counts, rejects, 'unchanged');
        log.info('payload unchanged (same content hash); nothing written', { ...counts });
        return { ...counts, provider: provider.name, syncRunId: run.id, changed: false };
      }
      // A sudden drop is more often a broken feed than a real one: keep the values, but do not
      // let it count as "seen", and keep the last applied payload as the reference.
      const verdict = options.fetchState
        ? judgeShrink(parsedCount, fetchState?.parsedCount, options.shrinkGuardRatio ?? 0.5)
        : 'ok';
      if (verdict === 'empty') {
        await options.syncRuns.succeed(run.id, counts, rejects, 'empty');
        log.warn('payload has no valid event where the provider had some; nothing written', {
          previous: fetchState?.parsedCount,
          ...counts,
        });
        return { ...counts, provider: provider.name, syncRunId: run.id, changed: false };
      }
      await job.updateProgress({ stage: 'writing', ...counts } satisfies SyncProgress);

      if (fetchState?.contentHash) await options.fetchState?.forgetPayload(provider.id);
      const seenAt = now();
      const { written } =
        streamed ?? (await options.events.upsertMany(provider, parsed.events, seenAt));
      if (verdict === 'ok') {
        await options.events.markSeen(provider.id, parsedKeys(), seenAt);
        await options.fetchState?.save(provider.id, applied);
      } else {
        log.warn('payload shrank suddenly; "last seen" not applied', {
          previous: fetchState?.parsedCount,
          parsed: parsedCount,
        });
      }
      counts.upserted = written;
      counts.unchanged = Math.max(0, parsedCount - written);
      if (written > 0) await options.cache.invalidate();

      await options.syncRuns.succeed(
        run.id,
        counts,
        rejects,
        verdict === 'shrunk' ? 'shrunk' : undefined,
      );
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
