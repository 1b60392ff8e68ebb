import { DelayedError, UnrecoverableError } from 'bullmq';
import type { SearchCache } from '@marquee/cache';
import {
  LAST_SEEN_GRANULARITY_MS,
  type EventRepository,
  type FetchStateRepository,
  type ProviderFetchState,
  type ProviderRepository,
  type RejectSample,
  type SyncCounts,
  type SyncRunRepository,
} from '@marquee/db';
import { assertContentType, FetchError, type fetchPayload } from '@marquee/fetch';
import type { Logger } from '@marquee/logger';
import {
  contentFamilyOf,
  getProviderKind,
  isStreamingKind,
  parseProviderConfig,
  PayloadError,
  ProviderConfigError,
  UnknownProviderKindError,
} from '@marquee/providers';
import { InvalidJobError, parsePayload, type SyncJob } from '@marquee/queue';
import { FetchTracker, judgeShrink, UnchangedPayloadSignal } from './fetch.tracker.ts';
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
  /** How far "last seen" may lag (markSeen's granularity); default LAST_SEEN_GRANULARITY_MS. */
  lastSeenGranularityMs?: number;
  /**
   * Per-host concurrency and spacing shared by all workers (HostLeaseGate). It wraps the breaker:
   * waiting for a host is not the provider's failure.
   */
  hostGate?: { around<T>(url: string, call: () => Promise<T>): Promise<T> };
  /** robots.txt check (RobotsGuard), made before every fetch of an HTML kind. */
  robots?: { assertAllowed(url: string): Promise<void> };
}

type SyncStage = 'fetching' | 'parsing' | 'writing' | 'done';

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
  const granularityMs = options.lastSeenGranularityMs ?? LAST_SEEN_GRANULARITY_MS;

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
    // Also closes a run of this job left "running" by a stopped or killed worker.
    const opened = await options.syncRuns.openRun(provider.id, payload.trigger, job.id);
    const runId = opened.runId;
    const counts: SyncCounts = { fetched: 0, parsed: 0, upserted: 0, unchanged: 0, rejected: 0 };
    if (!provider.enabled) {
      await options.syncRuns.succeed(runId, counts, []);
      log.info('provider disabled; sync skipped');
      return {
        ...counts,
        provider: provider.name,
        syncRunId: runId,
        changed: false,
        skipped: 'disabled',
      };
    }

    const fetchState = options.fetchState ? opened.fetchState : null;
    // One clock reading per sync: rows written, rows marked seen and the seen mark all carry it.
    const seenAt = now();
    try {
      const kind = getProviderKind(provider.kind);
      const config = parseProviderConfig(kind, provider.config);
      await job.updateProgress({ stage: 'fetching' } satisfies SyncProgress);
      // `parse` marks a single-document kind (singleDocumentKind): only there does a 304 or an
      // equal body of the provider's URL mean the whole payload is unchanged. Taking it as such
      // unparsed skips markSeen, so only while its keys were marked seen under half the
      // granularity ago: "last seen" then lags by less than the granularity (see markSeen).
      const tracker = new FetchTracker(
        provider.url,
        fetchState,
        'parse' in kind && seenMarkIsFresh(fetchState, seenAt, granularityMs),
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
            seenAt,
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
        if (!(error instanceof UnchangedPayloadSignal)) throw error;
        counts.unchanged = fetchState?.parsedCount ?? 0;
        await options.syncRuns.succeed(runId, counts, [], 'unchanged');
        log.info(
          error.via === 'not-modified'
            ? 'provider answered 304 Not Modified; nothing written'
            : 'payload unchanged (same content hash); not parsed, nothing written',
        );
        return { ...counts, provider: provider.name, syncRunId: runId, changed: false };
      }
      const parsedCount = streamed?.parsedCount ?? parsed.events.length;
      // Every event handed to the upsert, in order (a key repeated across streamed batches twice).
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
        seenMarkedAt: seenAt,
      };
      if (options.fetchState && fetchState?.contentHash === contentHash) {
        counts.unchanged = parsedCount;
        // "Last seen" still advances: markSeen writes a row at most once per half-granularity.
        await options.events.markSeen(provider.id, parsedKeys(), seenAt, granularityMs);
        await options.fetchState.save(provider.id, applied);
        await options.syncRuns.succeed(runId, counts, rejects, 'unchanged');
        log.info('payload unchanged (same content hash); nothing written', { ...counts });
        return { ...counts, provider: provider.name, syncRunId: runId, changed: false };
      }
      // A sudden drop is more often a broken feed than a real one: keep the values, but do not
      // let it count as "seen", and keep the last applied payload as the reference.
      const verdict = options.fetchState
        ? judgeShrink(parsedCount, fetchState?.parsedCount, options.shrinkGuardRatio ?? 0.5)
        : 'ok';
      if (verdict === 'empty') {
        await options.syncRuns.succeed(runId, counts, rejects, 'empty');
        log.warn('payload has no valid event where the provider had some; nothing written', {
          previous: fetchState?.parsedCount,
          ...counts,
        });
        return { ...counts, provider: provider.name, syncRunId: runId, changed: false };
      }
      await job.updateProgress({ stage: 'writing', ...counts } satisfies SyncProgress);

      // A streamed sync did this before its first write (beforeFirstWrite).
      if (!streamed && fetchState?.contentHash) {
        await options.fetchState?.forgetPayload(provider.id);
      }
      const { written } =
        streamed ?? (await options.events.upsertMany(provider, parsed.events, seenAt));
      if (verdict === 'ok') {
        // A row the upsert inserted or rewrote got last_seen_at = seenAt; each event handed to it
        // writes at most one row, so when all of them wrote, every key is marked already.
        const keys = parsedKeys();
        if (written < keys.length) {
          await options.events.markSeen(provider.id, keys, seenAt, granularityMs);
        }
        await options.fetchState?.save(provider.id, applied);
      } else {
        log.warn('payload shrank suddenly; "last seen" not applied', {
          previous: fetchState?.parsedCount,
          parsed: parsedCount,
        });
      }
      counts.upserted = written;
      counts.unchanged = Math.max(0, parsedCount - written);
      if (written > 0) await options.cache.bumpVersion();

      // No 'done' progress: the job's completion (with this summary as its value) says it.
      await options.syncRuns.succeed(
        runId,
        counts,
        rejects,
        verdict === 'shrunk' ? 'shrunk' : undefined,
      );
      log.info('sync succeeded', { ...counts, rejects: parsed.rejects.slice(0, 5) });
      return { ...counts, provider: provider.name, syncRunId: runId, changed: written > 0 };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      await options.syncRuns.fail(runId, message, counts);
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

/**
 * The last applied payload's keys were all marked seen less than half the granularity ago (on
 * this sync's clock; a mark in the future, from a skewed or injected clock, does not count).
 */
function seenMarkIsFresh(
  state: ProviderFetchState | null,
  at: Date,
  granularityMs: number,
): boolean {
  if (!state?.contentHash || !state.seenMarkedAt) return false;
  const age = at.getTime() - state.seenMarkedAt.getTime();
  return age >= 0 && age < granularityMs / 2;
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
