import type { CheerioAPI } from 'cheerio';
import { z } from 'zod';
import { normalizeEvent, type NormalizeOutcome } from '../mapping/event.normalizer.ts';
import {
  dateOptionsShape,
  fieldsSchema,
  identityOptionsShape,
  mapItem,
  priceOptionsShape,
  readingOptions,
} from '../mapping/field-mapping.ts';
import { crawlHtmlPages, paginationShape, pagingOf } from './html-pages.crawler.ts';
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
    ...dateOptionsShape,
    ...priceOptionsShape,
    /** A selector, as a field: `.isrc`, `[data-isrc]@data-isrc`. */
    ...identityOptionsShape,
    ...paginationShape,
  })
  .strict();
export type HtmlSelectorsConfig = z.output<typeof htmlSelectorsConfigSchema>;

type Selection = ReturnType<CheerioAPI>;

const PATH = /^(.*?)(?:@([\w:.-]+))?$/;

function reader($: CheerioAPI) {
  return (item: Selection, path: string): string[] => {
    const [, selector = '', attribute] = PATH.exec(path.trim()) ?? [];
    const target = selector === '' || selector === '.' ? item : item.find(selector);
    return target
      .toArray()
      .map((element) => {
        const node = $(element);
        return attribute !== undefined ? (node.attr(attribute) ?? '') : node.text();
      })
      .map((text) => text.replace(/\s+/g, ' ').trim());
  };
}

function parseHtmlSelectorsPage(
  $: CheerioAPI,
  config: HtmlSelectorsConfig,
  ctx: { timezone: string; baseUrl: string },
): NormalizeOutcome[] {
  const read = reader($);
  return $(config.items)
    .toArray()
    .map((element) =>
      normalizeEvent(mapItem($(element), config.fields, read, config.dedupeKey), {
        timezone: config.timezone ?? ctx.timezone,
        baseUrl: ctx.baseUrl,
        ...readingOptions(config),
      }),
    );
}

/** Walks the site's pages from `from` (the first page when undefined) up to `maxPages`. */
async function walkSelectorPages(
  { url, config, timezone, fetch, limits }: IngestContext<HtmlSelectorsConfig>,
  from: PageCursor | undefined,
  onPage: PageHandler,
): Promise<WalkEnd> {
  const start = { url, fetch, limits, ...pagingOf(config) };
  let matched = false;
  const end = await crawlHtmlPages(start, from, ($, pageUrl, next) => {
    const outcomes = parseHtmlSelectorsPage($, config, { timezone, baseUrl: pageUrl });
    matched ||= outcomes.length > 0;
    return onPage({ outcomes, next });
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
