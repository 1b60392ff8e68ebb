import type { CheerioAPI } from 'cheerio';
import { z } from 'zod';
import { cheerio } from './cheerio.loader.ts';
import { contentTypeOf, decodeDocument } from '../kinds/document.decoder.ts';
import { createPagePacer } from '@marquee/fetch';
import type { FetchPage } from '../kinds/provider-kind.ts';

/** Config of a site spread over pages linked by a "next" link. */
export const paginationShape = {
  /** CSS selector of the link to the next page (its href); without it, one page is read. */
  nextSelector: z.string().min(1).optional(),
  /** At most this many pages per sync. */
  maxPages: z.number().int().min(1).max(500).default(10),
  /** Least time between two page requests of one sync. */
  minIntervalMs: z.number().int().min(0).max(600_000).default(0),
};

export function loadHtml(body: Buffer, contentType?: string): CheerioAPI {
  return cheerio().load(decodeDocument(body, contentType));
}

/**
 * Fetches the first page and follows the next link until there is none, it points to a page
 * already read, or `maxPages` were read; `onPage` sees each page once, in order.
 */
export async function crawlHtmlPages(
  start: {
    url: string;
    fetch: FetchPage;
    nextSelector?: string | undefined;
    maxPages: number;
    minIntervalMs: number;
  },
  onPage: ($: CheerioAPI, pageUrl: string) => void,
): Promise<void> {
  const pace = createPagePacer(start.minIntervalMs);
  const visited = new Set<string>();
  let next: string | undefined = start.url;
  for (let count = 0; next !== undefined && count < start.maxPages; count += 1) {
    visited.add(next);
    await pace();
    const page = await start.fetch(next);
    visited.add(page.url);
    const $ = loadHtml(page.body, contentTypeOf(page.headers));
    onPage($, page.url);
    next = undefined;
    if (start.nextSelector !== undefined) {
      const href = $(start.nextSelector).first().attr('href')?.trim();
      if (href !== undefined && href !== '' && !href.startsWith('#')) {
        const candidate = new URL(href, page.url).toString();
        if (!visited.has(candidate)) next = candidate;
      }
    }
  }
}
