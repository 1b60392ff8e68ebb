import type { CheerioAPI } from 'cheerio';
import { z } from 'zod';
import { normalizeEvent, type NormalizeOutcome } from '../mapping/event.normalizer.ts';
import {
  describeDedupeKey,
  identityOptionsShape,
  priceOptionsShape,
  readField,
  type FieldSpec,
} from '../mapping/field-mapping.ts';
import { readScalars } from '../mapping/object-path.reader.ts';
import { crawlHtmlPages, paginationShape, pagingOf } from './html-pages.crawler.ts';
import { parseLenientJson } from '../json/lenient-json.parser.ts';
import { extractMicrodataEvents } from './microdata.extractor.ts';
import { ParseResultBuilder } from '../kinds/parse-result.builder.ts';
import type { IngestContext, ParseResult } from '../kinds/provider-kind.ts';
import {
  collectPages,
  type PageCursor,
  type PagedProviderKind,
  type PageHandler,
  type WalkEnd,
} from '../kinds/page-walk.ts';
import { collectEventNodes, schemaEventToRaw, type SchemaNode } from './schema-event.mapper.ts';

const jsonldHtmlConfigSchema = z
  .object({
    ...paginationShape,
    /** Also read schema.org microdata (itemscope/itemprop). */
    microdata: z.boolean().default(true),
    ...priceOptionsShape,
    /** A property path of the event node: `identifier`, `offers.sku`, `workPerformed.isrcCode`. */
    ...identityOptionsShape,
  })
  .strict();
export type JsonldHtmlConfig = z.output<typeof jsonldHtmlConfigSchema>;

/** Every schema.org event node of a page: JSON-LD blocks first, then microdata. */
function extractSchemaEvents($: CheerioAPI, microdata = true): SchemaNode[] {
  const nodes: SchemaNode[] = [];
  $('script[type]').each((_index, element) => {
    const type = ($(element).attr('type') ?? '').toLowerCase().split(';')[0]?.trim();
    if (type !== 'application/ld+json') return;
    // A block nothing can be recovered from is skipped: the rest of the page still counts.
    const value = parseLenientJson($(element).text());
    if (value !== undefined) collectEventNodes(value, nodes);
  });
  if (microdata) nodes.push(...extractMicrodataEvents($));
  return nodes;
}

/** What a page is read with: the provider's zone, the page's URL, and the kind's options. */
interface SchemaPageContext {
  timezone: string;
  baseUrl: string;
  microdata?: boolean;
  priceLocale?: string | undefined;
  dedupeKey?: FieldSpec | undefined;
}

/**
 * Adds the events of one page. A node repeated on the page or on an earlier page (the same event
 * in two blocks, a "featured" sidebar) is read once: same key, so it is not an item twice.
 */
function addSchemaEvents(
  nodes: readonly SchemaNode[],
  ctx: SchemaPageContext,
  result: { add(outcome: NormalizeOutcome): void },
  seenKeys: Set<string>,
): void {
  for (const node of nodes) {
    const raw = {
      ...schemaEventToRaw(node),
      dedupeKey: readField(node, ctx.dedupeKey, readScalars),
    };
    const outcome = normalizeEvent(raw, {
      timezone: ctx.timezone,
      baseUrl: ctx.baseUrl,
      priceLocale: ctx.priceLocale,
      dedupeKey: describeDedupeKey(ctx.dedupeKey),
    });
    const key = 'event' in outcome ? outcome.event.externalKey : outcome.key;
    if (seenKeys.has(key)) continue;
    seenKeys.add(key);
    result.add(outcome);
  }
}

export function parseJsonldPage($: CheerioAPI, ctx: SchemaPageContext): ParseResult {
  const result = new ParseResultBuilder();
  addSchemaEvents(extractSchemaEvents($, ctx.microdata ?? true), ctx, result, new Set());
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
  return crawlHtmlPages({ url, fetch, limits, ...pagingOf(config) }, from, ($, pageUrl, next) => {
    const outcomes: NormalizeOutcome[] = [];
    addSchemaEvents(
      extractSchemaEvents($, config.microdata),
      { timezone, baseUrl: pageUrl, priceLocale: config.priceLocale, dedupeKey: config.dedupeKey },
      { add: (outcome) => void outcomes.push(outcome) },
      seenKeys,
    );
    return onPage({ outcomes, next });
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
