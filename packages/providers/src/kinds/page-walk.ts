import { ParseResultBuilder } from './parse-result.builder.ts';
import type { IngestContext, ParseResult, ProviderKind } from './provider-kind.ts';
import type { NormalizeOutcome } from '../mapping/event.normalizer.ts';

/**
 * Where a walk of pages goes on: the first page not yet fetched. Plain JSON, so a sync can keep
 * it (with the rows of the pages before it) and a retry resumes there instead of at page 1.
 */
export interface PageCursor {
  /** The page's URL, with its paging parameters. */
  url: string;
  /** Its position in the walk, 0 for the first page: `maxPages` counts from the first page. */
  index: number;
  /** Items on the pages before it (offset paging and totals count from it). */
  seen: number;
  /**
   * Items of this page already handed over, when a walk that reads each item's own page stopped
   * part-way through the page: it reads the page again and goes on from that item.
   */
  item?: number | undefined;
}

/** One page of a walk, parsed (and its detail pages read): its items and the page after it. */
export interface WalkedPage {
  outcomes: NormalizeOutcome[];
  /** The next page; undefined after the last one. */
  next: PageCursor | undefined;
}

export interface WalkEnd {
  /** The walk stopped at `maxPages` while the payload said there was more. */
  truncated: boolean;
  /** No page had the configured items path (see ParseResult.unmatched). */
  unmatched?: string | undefined;
}

/** Called after each page, in order; the walk goes on once it resolves. */
export type PageHandler = (page: WalkedPage) => Promise<void>;

/** A kind whose payload is a walk of pages, each parsed to find the next. */
export interface PagedProviderKind<Config = unknown> extends ProviderKind<Config> {
  /** Walks from `from` (the first page when undefined), handing each page over as it is read. */
  walkPages(
    ctx: IngestContext<Config>,
    from: PageCursor | undefined,
    onPage: PageHandler,
  ): Promise<WalkEnd>;
}

export function isPagedKind<Config>(kind: ProviderKind<Config>): kind is PagedProviderKind<Config> {
  return typeof (kind as Partial<PagedProviderKind<Config>>).walkPages === 'function';
}

/** The whole walk as one ParseResult: a paged kind's `ingest`. */
export async function collectPages<Config>(
  walk: PagedProviderKind<Config>['walkPages'],
  ctx: IngestContext<Config>,
): Promise<ParseResult> {
  const result = new ParseResultBuilder();
  const end = await walk(ctx, undefined, (page) => {
    for (const outcome of page.outcomes) result.add(outcome);
    return Promise.resolve();
  });
  return {
    ...result.build(),
    ...(end.truncated && { truncated: true }),
    ...(end.unmatched !== undefined && { unmatched: end.unmatched }),
  };
}

/**
 * A walk's end: pages were left when it stopped (at `maxPages`); `unmatched` when no page had
 * the items path.
 */
export function walkEnd(next: PageCursor | undefined, unmatched?: string): WalkEnd {
  return { truncated: next !== undefined, unmatched };
}

/** What `unmatched` says: the configured items path(s) or selector, as written. */
export function itemsUnmatched(
  what: 'path' | 'selector',
  items: string | readonly string[],
): string {
  const list = typeof items === 'string' ? [items] : items;
  const names = list.map((item) => JSON.stringify(item)).join(', ');
  return `items ${what}${list.length > 1 ? 's' : ''} ${names} matched nothing`;
}
