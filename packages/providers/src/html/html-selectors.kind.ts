import type { CheerioAPI } from 'cheerio';
import { z } from 'zod';
import { normalizeEvent, type RawEvent } from '../mapping/event.normalizer.ts';
import { detailShape, handOverListing, type ListedItem } from './detail-page.reader.ts';
import {
  fieldsSchema,
  mapItem,
  readField,
  readingOptions,
  readingOptionsShape,
} from '../mapping/field-mapping.ts';
import { crawlHtmlPages, paginationShape, pagingOf } from './html-pages.crawler.ts';
import { selectorReader } from './selector.reader.ts';
import {
  collectPages,
  itemsUnmatched,
  type PageCursor,
  type PagedProviderKind,
  type PageHandler,
  type WalkEnd,
} from '../kinds/page-walk.ts';
import type { IngestContext } from '../kinds/provider-kind.ts';

const htmlSelectorsConfigSchema = z
  .object({
    /** CSS selector of one event's element. */
    items: z.string().min(1),
    /**
     * Per field, a CSS selector inside the item (its text), `selector@attr` (an attribute),
     * `@attr` (the item's own attribute) or `.` (the item's text).
     */
    fields: fieldsSchema,
    /** dedupeKey: a selector, as a field: `.isrc`, `[data-isrc]@data-isrc`. */
    ...readingOptionsShape,
    ...paginationShape,
    /** `link`: a selector in the item (default `a@href`, its first link). */
    ...detailShape,
  })
  .strict();
export type HtmlSelectorsConfig = z.output<typeof htmlSelectorsConfigSchema>;

/** The page's items: each one's fields, and the link to its own page when `detail` is set. */
function listItems($: CheerioAPI, config: HtmlSelectorsConfig): ListedItem[] {
  const read = selectorReader($);
  const link = config.detail ? (config.detail.link ?? 'a@href') : undefined;
  return $(config.items)
    .toArray()
    .map((element) => ({
      raw: mapItem($(element), config.fields, read, config.dedupeKey),
      link: link === undefined ? undefined : readField($(element), link, read),
    }));
}

/** Walks the site's pages from `from` (the first page when undefined) up to `maxPages`. */
async function walkSelectorPages(
  { url, config, timezone, fetch, limits }: IngestContext<HtmlSelectorsConfig>,
  from: PageCursor | undefined,
  onPage: PageHandler,
): Promise<WalkEnd> {
  const start = { url, fetch, limits, ...pagingOf(config) };
  let matched = false;
  const end = await crawlHtmlPages(start, from, (page) => {
    const items = listItems(page.$, config);
    matched ||= items.length > 0;
    const normalize = (raw: RawEvent) =>
      normalizeEvent(raw, {
        timezone: config.timezone ?? timezone,
        baseUrl: page.url,
        ...readingOptions(config),
      });
    return handOverListing(page, items, config.detail, normalize, onPage);
  });
  return matched ? end : { ...end, unmatched: itemsUnmatched('selector', config.items) };
}

export const htmlSelectors: PagedProviderKind<HtmlSelectorsConfig> = {
  kind: 'html-selectors',
  description:
    'web pages without structured data: CSS selectors for the items and each field, date formats, timezone',
  configSchema: htmlSelectorsConfigSchema,
  walkPages: walkSelectorPages,
  ingest: (ctx) => collectPages(walkSelectorPages, ctx),
};
