import { z } from 'zod';
import { normalizeEvent, type NormalizeOutcome } from '../mapping/event.normalizer.ts';
import {
  fieldsSchema,
  mapItem,
  readingOptions,
  readingOptionsShape,
} from '../mapping/field-mapping.ts';
import {
  pathExists,
  readPath,
  readScalars,
  readTexts,
  scalarText,
} from '../mapping/object-path.reader.ts';
import { createPagePacer } from '@marquee/fetch';
import {
  collectPages,
  itemsUnmatched,
  walkEnd,
  type PageCursor,
  type PagedProviderKind,
  type PageHandler,
  type WalkEnd,
} from '../kinds/page-walk.ts';
import { presetField, withPresets } from '../presets/preset.registry.ts';
import { PayloadError, type IngestContext } from '../kinds/provider-kind.ts';
import { authorizer, authSchema } from '../kinds/secret-env.reader.ts';

const KIND = 'json-api';
const param = z.string().min(1);

const paginationSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z
    .object({
      type: z.literal('page'),
      pageParam: param.default('page'),
      sizeParam: param.optional(),
      size: z.number().int().positive().optional(),
      firstPage: z.number().int().min(0).default(1),
      /** Path to the number of pages, when the API says it. */
      totalPagesPath: z.string().optional(),
      /** Path to the number of items over all pages, when the API says it. */
      totalPath: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('offset'),
      /** "offset", or "skip" for skip/limit APIs. */
      offsetParam: param.default('offset'),
      limitParam: param.default('limit'),
      limit: z.number().int().positive(),
      totalPath: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('cursor'),
      cursorParam: param,
      /** Path to the next page's cursor in a page; no cursor means the last page. */
      cursorPath: z.string().min(1),
      /** Path to a "there is more" flag; false means the last page. */
      hasMorePath: z.string().optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('next-link'),
      /** Path to the next page's URL (absolute or relative to the page) in a page. */
      nextPath: z.string().min(1),
    })
    .strict(),
]);

const FORBIDDEN_HEADERS = /^(authorization|cookie|x-api-key|api-key|x-auth-token)$/i;

const jsonApiConfigSchema = withPresets(
  KIND,
  z
    .object({
      preset: presetField(KIND),
      /** Path(s) to the list of items in a page, tried in order; "$" when the page is the list. */
      items: z.union([z.string(), z.array(z.string()).min(1)]),
      fields: fieldsSchema,
      /** Query parameters added to every request (no secrets: see `auth`). */
      query: z.record(z.string(), z.string()).optional(),
      headers: z
        .record(z.string(), z.string())
        .refine((headers) => !Object.keys(headers).some((name) => FORBIDDEN_HEADERS.test(name)), {
          message: 'credentials go in auth (auth.env names the variable), not in headers',
        })
        .optional(),
      auth: authSchema.optional(),
      pagination: paginationSchema.default({ type: 'none' }),
      maxPages: z.number().int().min(1).max(1000).default(20),
      /** Least time between two requests of one sync: the provider's rate limit. */
      minIntervalMs: z.number().int().min(0).max(600_000).default(0),
      ...readingOptionsShape,
    })
    .strict(),
);
export type JsonApiConfig = z.output<typeof jsonApiConfigSchema>;

function parseJson(body: Buffer, url: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8').decode(body)) as unknown;
  } catch (error) {
    throw new PayloadError(`page ${url} is not JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/**
 * The items of a page: the first path that exists. A page without any of them has no items (an
 * API may leave out an empty list, e.g. Ticketmaster's `_embedded` when nothing matches).
 */
function pageItems(page: unknown, items: string | readonly string[]): unknown[] {
  for (const path of typeof items === 'string' ? [items] : items) {
    const found = readPath(page, path);
    if (found.length > 0) return found;
  }
  return [];
}

/** Whether a page has one of the items paths, if only as an empty list. */
function hasItemsPath(page: unknown, items: string | readonly string[]): boolean {
  return (typeof items === 'string' ? [items] : items).some((path) => pathExists(page, path));
}

function numberAt(page: unknown, path: string | undefined): number | undefined {
  if (path === undefined) return undefined;
  const value = Number(readTexts(page, path)[0]);
  return Number.isFinite(value) ? value : undefined;
}

function withQuery(url: string, params: Record<string, string>): string {
  const target = new URL(url);
  for (const [name, value] of Object.entries(params)) target.searchParams.set(name, value);
  return target.toString();
}

/** The URL of the page after `page`, or undefined after the last one. */
function nextPageUrl(
  config: JsonApiConfig,
  state: { url: string; index: number; seen: number; count: number },
  page: unknown,
): string | undefined {
  const pagination = config.pagination;
  if (state.count === 0) return undefined;
  switch (pagination.type) {
    case 'none':
      return undefined;
    case 'page': {
      const pages = numberAt(page, pagination.totalPagesPath);
      const total = numberAt(page, pagination.totalPath);
      if (pagination.size !== undefined && state.count < pagination.size) return undefined;
      if (pages !== undefined && state.index + 1 >= pages) return undefined;
      if (total !== undefined && state.seen >= total) return undefined;
      return withQuery(state.url, {
        [pagination.pageParam]: String(pagination.firstPage + state.index + 1),
      });
    }
    case 'offset': {
      const total = numberAt(page, pagination.totalPath);
      if (state.count < pagination.limit) return undefined;
      if (total !== undefined && state.seen >= total) return undefined;
      return withQuery(state.url, {
        [pagination.offsetParam]: String(state.seen),
        [pagination.limitParam]: String(pagination.limit),
      });
    }
    case 'cursor': {
      if (pagination.hasMorePath !== undefined) {
        const more = scalarText(readPath(page, pagination.hasMorePath)[0]);
        if (more === undefined || /^(false|0|)$/i.test(more)) return undefined;
      }
      const cursor = readTexts(page, pagination.cursorPath)[0];
      if (cursor === undefined || cursor === '') return undefined;
      return withQuery(state.url, { [pagination.cursorParam]: cursor });
    }
    case 'next-link': {
      const link = readTexts(page, pagination.nextPath)[0];
      if (link === undefined || link.trim() === '') return undefined;
      return new URL(link, state.url).toString();
    }
  }
}

function firstPageUrl(url: string, config: JsonApiConfig): string {
  const params: Record<string, string> = { ...config.query };
  const pagination = config.pagination;
  if (pagination.type === 'page') {
    params[pagination.pageParam] = String(pagination.firstPage);
    if (pagination.sizeParam !== undefined && pagination.size !== undefined) {
      params[pagination.sizeParam] = String(pagination.size);
    }
  } else if (pagination.type === 'offset') {
    params[pagination.offsetParam] = '0';
    params[pagination.limitParam] = String(pagination.limit);
  }
  return withQuery(url, params);
}

/** Parses one page's items into `result`; returns how many items the page had. */
export function parseJsonPage(
  page: unknown,
  config: Pick<
    JsonApiConfig,
    'items' | 'fields' | 'dateFormats' | 'locale' | 'priceLocale' | 'dedupeKey'
  >,
  ctx: { timezone: string; baseUrl?: string },
  result: { add(outcome: NormalizeOutcome): void },
): number {
  if (typeof page !== 'object' || page === null) {
    throw new PayloadError('page is neither a JSON object nor an array');
  }
  const items = pageItems(page, config.items);
  for (const item of items) {
    result.add(
      normalizeEvent(mapItem(item, config.fields, readScalars, config.dedupeKey), {
        timezone: ctx.timezone,
        baseUrl: ctx.baseUrl,
        ...readingOptions(config),
      }),
    );
  }
  return items.length;
}

/** Walks the API's pages from `from` (the first page when undefined) up to `maxPages`. */
async function walkJsonPages(
  { url, config, timezone, fetch }: IngestContext<JsonApiConfig>,
  from: PageCursor | undefined,
  onPage: PageHandler,
): Promise<WalkEnd> {
  const zone = config.timezone ?? timezone;
  const authorize = authorizer(config.auth);
  const headers: Record<string, string> = { accept: 'application/json', ...config.headers };
  const pace = createPagePacer(config.minIntervalMs);
  const visited = new Set<string>();
  let next: PageCursor | undefined = from ?? { url: firstPageUrl(url, config), index: 0, seen: 0 };
  let matched = false;
  while (next !== undefined && next.index < config.maxPages) {
    const current: PageCursor = next;
    visited.add(current.url);
    await pace();
    const request = authorize(current.url, headers);
    const fetched = await fetch(request.url, { headers: request.headers });
    const page = parseJson(fetched.body, current.url);
    const outcomes: NormalizeOutcome[] = [];
    const count = parseJsonPage(
      page,
      config,
      { timezone: zone, baseUrl: current.url },
      {
        add: (outcome) => void outcomes.push(outcome),
      },
    );
    matched ||= hasItemsPath(page, config.items);
    const seen = current.seen + count;
    const nextUrl = nextPageUrl(config, { ...current, seen, count }, page);
    next =
      nextUrl === undefined || visited.has(nextUrl)
        ? undefined
        : { url: nextUrl, index: current.index + 1, seen };
    await onPage({ outcomes, next });
  }
  return walkEnd(next, matched ? undefined : itemsUnmatched('path', config.items));
}

export const jsonApi: PagedProviderKind<JsonApiConfig> = {
  kind: KIND,
  description:
    'paginated JSON API with a declarative mapping (paths to the item list and to each field)',
  configSchema: jsonApiConfigSchema,
  walkPages: walkJsonPages,
  ingest: (ctx) => collectPages(walkJsonPages, ctx),
};
