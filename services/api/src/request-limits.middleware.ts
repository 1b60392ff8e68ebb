import type { IncomingHttpHeaders } from 'node:http';
import type { RequestHandler } from 'express';
import { ApiError } from './response.envelope.ts';

export interface RequestLimits {
  /** Bytes of the query string. */
  maxQueryBytes: number;
  /** Number of query parameters (a repeated one counts each time). */
  maxQueryParams: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxQueryBytes: 2048, maxQueryParams: 20 };

/** What is wrong with a request's size, before any parsing work; undefined when nothing is. */
export function requestLimitError(
  url: string,
  headers: IncomingHttpHeaders,
  limits: RequestLimits,
): ApiError | undefined {
  const mark = url.indexOf('?');
  const query = mark === -1 ? '' : url.slice(mark + 1);
  if (query.length > limits.maxQueryBytes) {
    return new ApiError(414, 'query_too_long', `query string over ${limits.maxQueryBytes} bytes`);
  }
  let params = query === '' ? 0 : 1;
  for (let at = query.indexOf('&'); at !== -1; at = query.indexOf('&', at + 1)) params += 1;
  if (params > limits.maxQueryParams) {
    return new ApiError(
      400,
      'too_many_parameters',
      `more than ${limits.maxQueryParams} query parameters`,
    );
  }
  const length = headers['content-length'];
  if ((length !== undefined && length !== '0') || headers['transfer-encoding'] !== undefined) {
    return new ApiError(413, 'body_not_allowed', 'request bodies are not accepted');
  }
  return undefined;
}

/**
 * Refuses oversized queries before any parsing work, and any request body: every endpoint is a
 * GET, so a body is never needed and never read.
 */
export function requestLimits(limits: RequestLimits = DEFAULT_REQUEST_LIMITS): RequestHandler {
  return (req, _res, next) => {
    const error = requestLimitError(req.url, req.headers, limits);
    if (error) throw error;
    next();
  };
}

/** Every endpoint of this API is read-only. */
export const ALLOWED_METHODS = 'GET, HEAD';

function methodNotAllowed(method: string | undefined): ApiError {
  return new ApiError(
    405,
    'method_not_allowed',
    `${method ?? 'this method'} is not allowed; use ${ALLOWED_METHODS}`,
  );
}

/**
 * Answers any method but GET and HEAD with 405 and `Allow`, on every path (a CORS preflight is
 * answered before this, by the CORS middleware). Methods Node's parser does not know are answered
 * the same way by the server (http.server.ts).
 */
export const readOnlyMethods: RequestHandler = (req, res, next) => {
  if (req.method === 'GET' || req.method === 'HEAD') {
    next();
    return;
  }
  res.setHeader('Allow', ALLOWED_METHODS);
  throw methodNotAllowed(req.method);
};
