import type { CheerioAPI } from 'cheerio';
import { z } from 'zod';
import {
  normalizeEvent,
  type NormalizeOutcome,
  type RawEvent,
} from '../mapping/event.normalizer.ts';
import { detailShape, handOverListing, type ListedItem } from './detail-page.reader.ts';
import {
  describeDedupeKey,
  identityOptionsShape,
  priceOptionsShape,
  readField,
  type FieldSpec,
} from '../mapping/field-mapping.ts';
import { readScalars } from '../mapping/object-path.reader.ts';
import { crawlHtmlPages, paginationShape, pagingOf } from './html-pages.crawler.ts';
import { extractSchemaEvents } from './schema-events.extractor.ts';
import { ParseResultBuilder } from '../kinds/parse-result.builder.ts';
import type { IngestContext, ParseResult } from '../kinds/provider-kind.ts';
import {
  collectPages,
  type PageCursor,
  type PagedProviderKind,
  type PageHandler,
  type WalkEnd,
} from '../kinds/page-walk.ts';
import { schemaEventToRaw, type SchemaNode } from './schema-event.mapper.ts';

const jsonldHtmlConfigSchema = z
  .object({
    ...paginationShape,
    /** Also read schema.org microdata (itemscope/itemprop). */
    microdata: z.boolean().default(true),
    ...priceOptionsShape,
    /** A property path of the event node: `identifier`, `offers.sku`, `workPerformed.isrcCode`. */
    ...identityOptionsShape,
    /** `link`: a property path of the event node (default `url`). */
    ...detailShape,
  })
  .strict();
export type JsonldHtmlConfig = z.output<typeof jsonldHtmlConfigSchema>;

/** What a page is read with: the provider's zone, the page's URL, and the kind's options. */
interface SchemaPageContext {
  timezone: string;
  baseUrl: string;
  microdata?: boolean;
  priceLocale?: string | undefined;
  dedupeKey?: FieldSpec | undefined;
}

function normalizeSchemaEvent(raw: RawEvent, ctx: SchemaPageContext): NormalizeOutcome {
  return normalizeEvent(raw, {
    timezone: ctx.timezone,
    baseUrl: ctx.baseUrl,
    priceLocale: ctx.priceLocale,
    dedupeKey: describeDedupeKey(ctx.dedupeKey),
  });
}

/**
 * The events of one page, with the link to each one's own page when `link` is given. A node
 * repeated on the page or on an earlier page (the same event in two blocks, a "featured"
 * sidebar) is read once: same key, so it is not an item twice.
 */
function listSchemaItems(
  nodes: readonly SchemaNode[],
  ctx: SchemaPageContext,
  seenKeys: Set<string>,
  link?: string,
): ListedItem[] {
  const items: ListedItem[] = [];
  for (const node of nodes) {
    const raw = {
      ...schemaEventToRaw(node),
      dedupeKey: readField(node, ctx.dedupeKey, readScalars),
    };
    const outcome = normalizeSchemaEvent(raw, ctx);
    const key = 'event' in outcome ? outcome.event.externalKey : outcome.key;
    if (seenKeys.has(key)) continue;
    seenKeys.add(key);
    items.push({ raw, link: link === undefined ? undefined : readField(node, link, readScalars) });
  }
  return items;
}

export function parseJsonldPage($: CheerioAPI, ctx: SchemaPageContext): ParseResult {
  const result = new ParseResultBuilder();
  const nodes = extractSchemaEvents($, ctx.microdata ?? true);
  for (const item of listSchemaItems(nodes, ctx, new Set())) {
    result.add(normalizeSchemaEvent(item.raw, ctx));
  }
  return result.build();
}

/**
 * Walks the site's pages from `from` (the first page when undefined) up to `maxPages`. A node
 * seen on an earlier page of this walk is skipped (a resumed walk no longer knows the pages
 * before it: their repeats count as items again, and the later one wins, as within a page).
 */
function walkSchemaPages(
  { url, config, timezone, fetch, limits }: IngestContext<JsonldHtmlConfig>,
  from: PageCursor | undefined,
  onPage: PageHandler,
): Promise<WalkEnd> {
  const seenKeys = new Set<string>();
  const link = config.detail ? (config.detail.link ?? 'url') : undefined;
  return crawlHtmlPages({ url, fetch, limits, ...pagingOf(config) }, from, (page) => {
    const ctx = {
      timezone,
      baseUrl: page.url,
      priceLocale: config.priceLocale,
      dedupeKey: config.dedupeKey,
    };
    const items = listSchemaItems(
      extractSchemaEvents(page.$, config.microdata),
      ctx,
      seenKeys,
      link,
    );
    const normalize = (raw: RawEvent) => normalizeSchemaEvent(raw, ctx);
    return handOverListing(page, items, config.detail, normalize, onPage);
  });
}

export const jsonldHtml: PagedProviderKind<JsonldHtmlConfig> = {
  kind: 'jsonld-html',
  description:
    'web pages with schema.org Event data (JSON-LD or microdata), optionally paginated by a next link',
  configSchema: jsonldHtmlConfigSchema,
  walkPages: walkSchemaPages,
  ingest: (ctx) => collectPages(walkSchemaPages, ctx),
};
