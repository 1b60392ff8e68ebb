import type { CheerioAPI } from 'cheerio';
import { z } from 'zod';
import { normalizeEvent } from '../mapping/event.normalizer.ts';
import {
  dateOptionsShape,
  fieldsSchema,
  identityOptionsShape,
  mapItem,
  priceOptionsShape,
  readingOptions,
} from '../mapping/field-mapping.ts';
import { crawlHtmlPages, paginationShape } from './html-pages.crawler.ts';
import { ParseResultBuilder } from '../kinds/parse-result.builder.ts';
import type { ProviderKind } from '../kinds/provider-kind.ts';

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
  result: ParseResultBuilder,
): void {
  const read = reader($);
  for (const element of $(config.items).toArray()) {
    result.add(
      normalizeEvent(mapItem($(element), config.fields, read, config.dedupeKey), {
        timezone: config.timezone ?? ctx.timezone,
        baseUrl: ctx.baseUrl,
        ...readingOptions(config),
      }),
    );
  }
}

export const htmlSelectors: ProviderKind<HtmlSelectorsConfig> = {
  kind: 'html-selectors',
  description:
    'web pages without structured data: CSS selectors for the items and each field, date formats, timezone',
  configSchema: htmlSelectorsConfigSchema,
  async ingest({ url, config, timezone, fetch }) {
    const result = new ParseResultBuilder();
    await crawlHtmlPages(
      {
        url,
        fetch,
        nextSelector: config.nextSelector,
        maxPages: config.maxPages,
        minIntervalMs: config.minIntervalMs,
      },
      ($, pageUrl) => parseHtmlSelectorsPage($, config, { timezone, baseUrl: pageUrl }, result),
    );
    return result.build();
  },
};
