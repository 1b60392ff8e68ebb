import type { Provider } from '@marquee/db';
import { BudgetWaitError, type ContentFamily, type FetchedPayload } from '@marquee/fetch';
import {
  contentFamilyOf,
  getProviderKind,
  isPagedKind,
  parseProviderConfig,
  type FetchPage,
  type ParseResult,
  type ProviderKind,
} from '@marquee/providers';
import { keepWalked, type KeepDeps } from './keep-walked.step.ts';
import { PayloadRecorder } from './payload.recorder.ts';
import { ProviderRemovedError } from './sync-failure.error.ts';
import type { SyncContext, SyncDeps } from './sync.context.ts';
import { mayTakeUnparsed, type PayloadFacts, type PayloadForm } from './sync.decision.ts';
import { WalkProgress } from './walk.checkpoint.ts';

/** How a provider's payload is read: its kind, validated config, and the form of the payload. */
export interface PayloadSource {
  kind: ProviderKind;
  config: unknown;
  form: PayloadForm;
  family: ContentFamily | undefined;
}

/** Throws UnknownProviderKindError or ProviderConfigError (both permanent). */
export function sourceOf(provider: Provider): PayloadSource {
  const kind = getProviderKind(provider.kind);
  return {
    kind,
    config: parseProviderConfig(kind, provider.config),
    // A single-document kind (singleDocumentKind) has `parse`: its payload is the provider's URL.
    form: 'parse' in kind ? 'document' : 'pages',
    family: contentFamilyOf(kind.kind),
  };
}

/**
 * A complete payload: a document, fetched and not parsed yet, or pages, fetched and parsed by
 * the kind's walk (each page is parsed to find the next one).
 */
export type Payload =
  | { form: 'document'; url: string; page: FetchedPayload; fetch: FetchPage; facts: FetchedFacts }
  | { form: 'pages'; parsed: ParseResult; facts: FetchedFacts };

export interface FetchedFacts extends PayloadFacts {
  etag: string | null;
  lastModified: string | null;
  /** A walk of pages stopped at its `maxPages` while the payload said there was more. */
  truncated: boolean;
  /** The configured items path matched nothing in the whole payload (ParseResult.unmatched). */
  unmatched?: string | undefined;
}

/**
 * Runs `fetch` until its payload fits the worker's budget (WORKER_MAX_INFLIGHT_MB): a fetch
 * stopped for want of budget dropped what it read; the sync waits for the bytes, outside the
 * fetch chain (no deadline, lease or breaker runs meanwhile), then fetches again.
 */
async function withinBudget(
  sync: SyncContext,
  fetch: () => Promise<FetchedPayload>,
): Promise<FetchedPayload> {
  for (;;) {
    try {
      return await fetch();
    } catch (error) {
      if (!(error instanceof BudgetWaitError)) throw error;
      sync.log.debug('waiting for payload budget', { bytes: error.bytes });
      await sync.hold.reserve(error.bytes);
    }
  }
}

/**
 * Runs one request of the sync with a signal that aborts it once its provider is gone: a slow
 * page (up to FETCH_TIMEOUT_MS) does not outlive `providers remove` by more than a check.
 */
async function untilRemoved<T>(
  deps: Pick<SyncDeps, 'removals'>,
  sync: SyncContext,
  request: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  const controller = new AbortController();
  const unwatch = deps.removals.watch(sync.provider.id, controller);
  try {
    return await request(controller.signal);
  } catch (error) {
    if (controller.signal.aborted) throw new ProviderRemovedError(sync.provider.name);
    throw error;
  } finally {
    unwatch();
  }
}

/**
 * A sync's fetch: down the shared chain, recorded, counted as a page of progress. Before every
 * request but the first (beginRun has just read the provider), the provider must still be there:
 * a removed provider's walk stops at its next page, and a request under way is aborted.
 */
function syncFetch(
  deps: Pick<SyncDeps, 'fetch' | 'providers' | 'removals'>,
  sync: SyncContext,
  family: ContentFamily | undefined,
  recorder: PayloadRecorder,
): FetchPage {
  const chain = deps.fetch;
  let requests = 0;
  return async (url, options) => {
    if (requests++ > 0 && !(await deps.providers.exists(sync.provider.id)))
      throw new ProviderRemovedError(sync.provider.name);
    const headers = { ...recorder.headersFor(url), ...options?.headers };
    const reserve = (bytes: number) => sync.hold.tryReserve(bytes);
    const page = await untilRemoved(deps, sync, (signal) =>
      withinBudget(sync, () =>
        chain({ url, headers, provider: sync.provider, family, reserve, signal }),
      ),
    );
    recorder.record(url, page);
    sync.progress.pageFetched();
    return page;
  };
}

/**
 * A paged kind's walk, from where an earlier attempt stopped (or page 1). When it fails part-way,
 * the pages read so far are kept with a checkpoint (keep-walked.step.ts) before the error goes on.
 */
async function walkPayload(
  deps: KeepDeps & Pick<SyncDeps, 'parseLimits'>,
  sync: SyncContext,
  source: PayloadSource,
  fetch: FetchPage,
  recorder: PayloadRecorder,
): Promise<ParseResult> {
  const { kind } = source;
  const { provider } = sync;
  const ctx = {
    url: provider.url,
    config: source.config,
    timezone: provider.timezone,
    fetch,
    limits: deps.parseLimits,
  };
  if (!isPagedKind(kind)) return kind.ingest(ctx);
  const walk = new WalkProgress();
  try {
    const end = await kind.walkPages(ctx, sync.resumed?.cursor, (page) => {
      walk.add(page, recorder.contentHash());
      sync.progress.eventsRead(page.outcomes.filter((outcome) => 'event' in outcome).length);
      return Promise.resolve();
    });
    return {
      ...walk.parsed(),
      ...(end.truncated && { truncated: true }),
      ...(end.unmatched !== undefined && { unmatched: end.unmatched }),
    };
  } catch (error) {
    // A removed provider's pages have nowhere to go (and no run to resume).
    if (!(error instanceof ProviderRemovedError)) await keepWalked(deps, sync, walk);
    throw error;
  }
}

/**
 * The guarded fetch: the whole payload, through the runtime's fetch chain. A document is sent as
 * a conditional GET when it may be taken for unchanged unparsed (see `mayTakeUnparsed`).
 */
export async function fetchPayload(
  deps: KeepDeps & Pick<SyncDeps, 'fetch' | 'providers' | 'removals' | 'parseLimits'>,
  sync: SyncContext,
  source: PayloadSource,
): Promise<Payload> {
  const { provider, resumed } = sync;
  const conditional = mayTakeUnparsed(source.form, sync.applied, sync.seenAt, deps.policy);
  const recorder = new PayloadRecorder(
    provider.url,
    sync.applied,
    conditional,
    resumed?.contentHash,
  );
  const fetch = syncFetch(deps, sync, source.family, recorder);
  const facts = (): FetchedFacts => ({
    form: source.form,
    resumed: resumed !== undefined,
    notModified: recorder.notModified,
    contentHash: recorder.contentHash(),
    etag: recorder.etag,
    lastModified: recorder.lastModified,
    truncated: false,
  });
  if (source.form === 'document') {
    const page = await fetch(provider.url);
    return { form: 'document', url: provider.url, page, fetch, facts: facts() };
  }
  const parsed = await walkPayload(deps, sync, source, fetch, recorder);
  // A resumed walk whose earlier pages had items found the path.
  const unmatched = (resumed?.counts.fetched ?? 0) > 0 ? undefined : parsed.unmatched;
  return {
    form: 'pages',
    parsed,
    facts: { ...facts(), truncated: parsed.truncated === true, unmatched },
  };
}
