import type { CheerioAPI } from 'cheerio';
import { z } from 'zod';
import { FetchError } from '@marquee/fetch';
import type { NormalizeOutcome, RawEvent } from '../mapping/event.normalizer.ts';
import { mapItem, someFieldsSchema } from '../mapping/field-mapping.ts';
import type { PageHandler } from '../kinds/page-walk.ts';
import { PayloadError } from '../kinds/provider-kind.ts';
import type { CrawledPage } from './html-pages.crawler.ts';
import { schemaEventToRaw } from './schema-event.mapper.ts';
import { extractSchemaEvents } from './schema-events.extractor.ts';
import { selectorReader } from './selector.reader.ts';

/**
 * `detail`: each listed event's own page, read for what the listing lacks (price, performers,
 * description…). `link` says where an item's page is (html-selectors: a selector in the item,
 * `a.more@href`; jsonld-html: a property of the event node, `url` by default); `fields` are CSS
 * selectors on that page, as html-selectors' fields, none required.
 */
export const detailShape = {
  detail: z
    .object({
      link: z.string().min(1).optional(),
      fields: someFieldsSchema.default({}),
    })
    .strict()
    .optional(),
};
export type DetailConfig = NonNullable<z.output<z.ZodObject<typeof detailShape>>['detail']>;

/** One listed event: what the listing says, and where its own page is. */
export interface ListedItem {
  raw: RawEvent;
  /** The link as the listing writes it (relative to the listing page), if it has one. */
  link: string | undefined;
}

/** The listing's raw event, then what the event's page says over it. */
type Completed = { raw: RawEvent; warnings: string[] };

const IDENTITY = new Set(['id', 'url']);

function present(value: unknown): boolean {
  if (value === undefined) return false;
  if (typeof value === 'string') return value.trim() !== '';
  return !Array.isArray(value) || value.length > 0;
}

/**
 * `base` with every value `over` has. The key (`id`, `url`) stays the listing's when it has
 * one: an event is the same event whether or not its page could be read.
 */
function overlay(base: RawEvent, over: RawEvent): RawEvent {
  const merged: Record<string, unknown> = { ...base };
  for (const [name, value] of Object.entries(over)) {
    if (IDENTITY.has(name) && present(merged[name])) continue;
    if (present(value)) merged[name] = value;
  }
  return merged;
}

/**
 * What an event's page says: its selectors first, then its first schema.org event (JSON-LD or
 * microdata) for what they do not find.
 */
function readDetail($: CheerioAPI, fields: DetailConfig['fields']): RawEvent {
  const node = extractSchemaEvents($)[0];
  const fromSchema = node === undefined ? {} : schemaEventToRaw(node);
  return overlay(fromSchema, mapItem($.root(), fields, selectorReader($)));
}

/** Where a field's value lands in a RawEvent (prices are lists of every value read). */
const RAW_NAME: Record<string, keyof RawEvent> = { minPrice: 'minPrices', maxPrice: 'maxPrices' };

/**
 * A warning per detail field that neither its selector, the page's JSON-LD nor the listing
 * filled: a selector that matches nothing is named, item by item (`providers test` lists them).
 */
function unmatchedFields(raw: RawEvent, fields: DetailConfig['fields'], url: string): string[] {
  return Object.entries(fields)
    .filter(([name]) => !present(raw[RAW_NAME[name] ?? (name as keyof RawEvent)]))
    .map(([name, spec]) => `detail ${name}: ${JSON.stringify(spec)} matched nothing on ${url}`);
}

/**
 * Reads one item's page. A page that cannot be had for good (404, disallowed by robots.txt, not
 * HTML, over the parse limits) keeps the listed event, with a warning; a transient failure (a
 * 5xx, a 429, an open breaker) fails the walk, which resumes at this item.
 */
async function complete(
  item: ListedItem,
  page: CrawledPage,
  detail: DetailConfig,
): Promise<Completed> {
  if (item.link === undefined || item.link.trim() === '') {
    return { raw: item.raw, warnings: ['detail: no link to the event page'] };
  }
  const url = new URL(item.link.trim(), page.url).toString();
  try {
    const $ = await page.fetchHtml(url);
    const raw = overlay(item.raw, readDetail($, detail.fields));
    return { raw, warnings: unmatchedFields(raw, detail.fields, url) };
  } catch (error) {
    const permanent =
      (error instanceof FetchError && error.classification === 'permanent') ||
      error instanceof PayloadError;
    if (!permanent) throw error;
    return { raw: item.raw, warnings: [`detail page ${url}: ${(error as Error).message}`] };
  }
}

function withWarnings(outcome: NormalizeOutcome, warnings: readonly string[]): NormalizeOutcome {
  if (warnings.length === 0 || !('event' in outcome)) return outcome;
  return { ...outcome, warnings: [...(outcome.warnings ?? []), ...warnings] };
}

/**
 * Hands a listing page's items over. Without `detail`, as one page. With it, item by item once
 * its own page is read, each with the cursor of what is left (this page from the next item, or
 * the next page), so a walk that fails on an event's page resumes at that item.
 */
export async function handOverListing(
  page: CrawledPage,
  items: readonly ListedItem[],
  detail: DetailConfig | undefined,
  normalize: (raw: RawEvent) => NormalizeOutcome,
  onPage: PageHandler,
): Promise<void> {
  if (detail === undefined) {
    await onPage({ outcomes: items.map((item) => normalize(item.raw)), next: page.next });
    return;
  }
  const from = page.cursor.item ?? 0;
  if (from >= items.length) {
    await onPage({ outcomes: [], next: page.next });
    return;
  }
  for (let index = from; index < items.length; index += 1) {
    const item = items[index];
    if (item === undefined) continue;
    const { raw, warnings } = await complete(item, page, detail);
    const last = index === items.length - 1;
    await onPage({
      outcomes: [withWarnings(normalize(raw), warnings)],
      next: last ? page.next : { ...page.cursor, item: index + 1 },
    });
  }
}
