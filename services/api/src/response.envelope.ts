import type { IncomingMessage, ServerResponse } from 'node:http';
import type { CachedBody, CacheOutcome } from '@marquee/cache';
import type { z } from 'zod';

/** An error the client caused or should see; anything else is answered as 500 `internal`. */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** Sent as `Retry-After`: when the client may try again. */
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * Sends an already serialized body: cached bodies go out as stored, with no JSON work. Plain
 * Node calls (what Express's `res.send` does for a string here, without its per-call lookups),
 * so the fast path and the Express path write the same bytes and headers.
 */
export function sendJsonText(
  res: ServerResponse,
  status: number,
  body: string,
  cache?: CacheOutcome,
): void {
  res.statusCode = status;
  res.setHeader('Content-Type', JSON_TYPE);
  if (cache) res.setHeader('X-Cache', cache);
  res.setHeader('Content-Length', String(Buffer.byteLength(body)));
  res.end(body);
}

export interface CachePolicy {
  /** How long clients and shared caches may reuse an answer without asking again. */
  maxAgeSeconds: number;
  /** How long they may fall back on it when the API fails. */
  staleIfErrorSeconds: number;
}

/** If-None-Match names `etag` (weak comparison, as RFC 9110 requires for this header). */
function matchesEtag(ifNoneMatch: string | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((tag) => {
    const trimmed = tag.trim();
    return (trimmed.startsWith('W/') ? trimmed.slice(2) : trimmed) === etag;
  });
}

/**
 * Sends a cached body with its validator, or 304 without the body when the request's
 * If-None-Match names it: a client that revalidates downloads nothing. Express's own `req.fresh`
 * is not used: it ignores If-None-Match whenever the request says `Cache-Control: no-cache`,
 * which fetch() adds to every conditional request. A stale body (the catalog was unreachable)
 * must be revalidated at once and says so.
 */
export function sendCached(
  req: IncomingMessage,
  res: ServerResponse,
  { body, etag, outcome }: CachedBody,
  policy: CachePolicy,
): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', JSON_TYPE);
  res.setHeader('X-Cache', outcome);
  res.setHeader('ETag', etag);
  if (outcome === 'stale') {
    res.setHeader('Cache-Control', 'public, max-age=0, must-revalidate');
    res.setHeader('Warning', '110 - "Response is Stale"');
  } else {
    res.setHeader('Cache-Control', freshCacheControl(policy));
  }
  if (matchesEtag(req.headers['if-none-match'], etag)) {
    res.statusCode = 304;
    res.end();
    return;
  }
  // If-Modified-Since alone never makes these answers fresh: they carry no Last-Modified. HEAD
  // gets the headers and Node drops the body.
  res.setHeader('Content-Length', String(body.length));
  res.end(body);
}

const cacheControls = new WeakMap<CachePolicy, string>();

function freshCacheControl(policy: CachePolicy): string {
  let value = cacheControls.get(policy);
  if (value === undefined) {
    value = `public, max-age=${policy.maxAgeSeconds}, stale-if-error=${policy.staleIfErrorSeconds}`;
    cacheControls.set(policy, value);
  }
  return value;
}

/** The error envelope's JSON text. */
export function errorBody(code: string, message: string): string {
  return JSON.stringify({ data: null, error: { code, message } });
}

export function sendError(res: ServerResponse, error: ApiError): void {
  res.setHeader('Cache-Control', 'no-store');
  if (error.retryAfterSeconds !== undefined) {
    res.setHeader('Retry-After', String(error.retryAfterSeconds));
  }
  sendJsonText(res, error.status, errorBody(error.code, error.message));
}

/** The first problem of a query, as `<parameter>: <what is wrong>`. */
function queryError(error: z.ZodError): ApiError {
  const issue = error.issues[0];
  if (!issue) return new ApiError(400, 'invalid_parameter', 'invalid query');
  if (issue.code === 'unrecognized_keys') {
    return new ApiError(400, 'invalid_parameter', `${issue.keys.join(', ')}: unknown parameter`);
  }
  const code =
    issue.code === 'custom' && typeof issue.params?.code === 'string'
      ? issue.params.code
      : 'invalid_parameter';
  const name = issue.path.map(String).join('.') || 'query';
  return new ApiError(400, code, `${name}: ${issue.message}`);
}

/** Parses `req.query`, throwing the 400 to answer when it does not fit. */
export function parseQuery<S extends z.ZodType>(schema: S, query: unknown): z.output<S> {
  const result = schema.safeParse(query);
  if (!result.success) throw queryError(result.error);
  return result.data;
}
