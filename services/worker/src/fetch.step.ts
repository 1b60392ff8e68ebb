import type { Provider } from '@marquee/db';
import type { ContentFamily, FetchedPayload } from '@marquee/fetch';
import {
  contentFamilyOf,
  getProviderKind,
  parseProviderConfig,
  type FetchPage,
  type ParseResult,
  type ProviderKind,
} from '@marquee/providers';
import { PayloadRecorder } from './payload.recorder.ts';
import type { SyncContext, SyncDeps } from './sync.context.ts';
import { mayTakeUnparsed, type PayloadFacts, type PayloadForm } from './sync.decision.ts';

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
}

/** A sync's fetch: down the shared chain, recorded, counted as a page of progress. */
function syncFetch(
  chain: SyncDeps['fetch'],
  sync: SyncContext,
  family: ContentFamily | undefined,
  recorder: PayloadRecorder,
): FetchPage {
  return async (url, options) => {
    const headers = { ...recorder.headersFor(url), ...options?.headers };
    const page = await chain({ url, headers, provider: sync.provider, family });
    recorder.record(url, page);
    sync.progress.pageFetched();
    return page;
  };
}

/**
 * The guarded fetch: the whole payload, through the runtime's fetch chain. A document is sent as
 * a conditional GET when it may be taken for unchanged unparsed (see `mayTakeUnparsed`).
 */
export async function fetchPayload(
  deps: Pick<SyncDeps, 'fetch' | 'policy'>,
  sync: SyncContext,
  source: PayloadSource,
): Promise<Payload> {
  const { provider } = sync;
  const conditional = mayTakeUnparsed(source.form, sync.applied, sync.seenAt, deps.policy);
  const recorder = new PayloadRecorder(provider.url, sync.applied, conditional);
  const fetch = syncFetch(deps.fetch, sync, source.family, recorder);
  const facts = (): FetchedFacts => ({
    form: source.form,
    notModified: recorder.notModified,
    contentHash: recorder.contentHash(),
    etag: recorder.etag,
    lastModified: recorder.lastModified,
  });
  if (source.form === 'document') {
    const page = await fetch(provider.url);
    return { form: 'document', url: provider.url, page, fetch, facts: facts() };
  }
  const parsed = await source.kind.ingest({
    url: provider.url,
    config: source.config,
    timezone: provider.timezone,
    fetch,
  });
  return { form: 'pages', parsed, facts: facts() };
}
