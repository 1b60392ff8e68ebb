import type { CheerioAPI } from 'cheerio';
import { z } from 'zod';
import { cheerio } from './cheerio.loader.ts';
import { contentTypeOf, decodeDocument } from '../kinds/document.decoder.ts';
import { createPagePacer } from '@marquee/fetch';
import type { FetchPage } from '../kinds/provider-kind.ts';
import {
  assertHtmlWithinLimits,
  DEFAULT_PARSE_LIMITS,
  type ParseLimits,
} from '../kinds/parse.limits.ts';
import { walkEnd, type PageCursor, type WalkEnd } from '../kinds/page-walk.ts';

/** Config of a site spread over pages linked by a "next" link. */
export const paginationShape = {
  /** CSS selector of the link to the next page (its href); without it, one page is read. */
  nextSelector: z.string().min(1).optional(),
  /** At most this many pages per sync. */
  maxPages: z.number().int().min(1).max(500).default(10),
  /** Least time between two page requests of one sync. */
  minIntervalMs: z.number().int().min(0).max(600_000).default(0),
};

/** A page as cheerio's DOM, once its bytes and elements are within `limits` (ParseLimitError). */
export function loadHtml(
  body: Buffer,
  contentType?: string,
  limits: ParseLimits = DEFAULT_PARSE_LIMITS,
): CheerioAPI {
  let text: string | undefined;
  const decoded = () => (text ??= decodeDocument(body, contentType));
  assertHtmlWithinLimits(body, decoded, limits);
  return cheerio().load(decoded());
}

/** Where a site's walk starts: its first page, its next link, its limits. */
export interface CrawlStart {
  url: string;
  fetch: FetchPage;
  nextSelector?: string | undefined;
  maxPages: number;
  minIntervalMs: number;
  /** Bounds on each page's parse (the worker's PARSE_* settings); defaults otherwise. */
  limits?: ParseLimits | undefined;
}

/** A config's paging options, as the crawler takes them. */
export function pagingOf(config: {
  nextSelector?: string | undefined;
  maxPages: number;
  minIntervalMs: number;
}): Omit<CrawlStart, 'url' | 'fetch'> {
  const { nextSelector, maxPages, minIntervalMs } = config;
  return { nextSelector, maxPages, minIntervalMs };
}

/** The next page's cursor: the page's next link, unless it points to a page already read. */
function nextPage(
  $: CheerioAPI,
  start: CrawlStart,
  current: PageCursor,
  visited: ReadonlySet<string>,
): PageCursor | undefined {
  if (start.nextSelector === undefined) return undefined;
  const href = $(start.nextSelector).first().attr('href')?.trim();
  if (href === undefined || href === '' || href.startsWith('#')) return undefined;
  const candidate = new URL(href, current.url).toString();
  if (visited.has(candidate)) return undefined;
  return { url: candidate, index: current.index + 1, seen: 0 };
}

/** One page of a site's walk, as the crawler hands it to the kind. */
export interface CrawledPage {
  $: CheerioAPI;
  /** The page's URL (after redirects): relative links resolve against it. */
  url: string;
  /** The page's own cursor: where a walk resumes to read it again (`item`: from that item on). */
  cursor: PageCursor;
  /** The page after it; undefined after the last. */
  next: PageCursor | undefined;
  /** Fetches another page of the site (an event's own page) with the walk's pacing and limits. */
  fetchHtml(url: string): Promise<CheerioAPI>;
}

/**
 * Fetches the first page (or `from`, where a walk resumes) and follows the next link until there
 * is none, it points to a page already read, or `maxPages` were read; `onPage` sees each page
 * once, in order, with the cursor of the page after it.
 */
export async function crawlHtmlPages(
  start: CrawlStart,
  from: PageCursor | undefined,
  onPage: (page: CrawledPage) => Promise<void>,
): Promise<WalkEnd> {
  const pace = createPagePacer(start.minIntervalMs);
  const fetchHtml = async (url: string): Promise<CheerioAPI> => {
    await pace();
    const page = await start.fetch(url);
    return loadHtml(page.body, contentTypeOf(page.headers), start.limits);
  };
  const visited = new Set<string>();
  let next: PageCursor | undefined = from ?? { url: start.url, index: 0, seen: 0 };
  while (next !== undefined && next.index < start.maxPages) {
    const cursor: PageCursor = next;
    visited.add(cursor.url);
    await pace();
    const page = await start.fetch(cursor.url);
    visited.add(page.url);
    const $ = loadHtml(page.body, contentTypeOf(page.headers), start.limits);
    next = nextPage($, start, { ...cursor, url: page.url }, visited);
    await onPage({ $, url: page.url, cursor, next, fetchHtml });
  }
  return walkEnd(next);
}
