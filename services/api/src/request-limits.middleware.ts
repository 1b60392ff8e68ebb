import type { RequestHandler } from 'express';
import { ApiError } from './response.envelope.ts';

export interface RequestLimits {
  /** Bytes of the query string. */
  maxQueryBytes: number;
  /** Number of query parameters (a repeated one counts each time). */
  maxQueryParams: number;
}

export const DEFAULT_REQUEST_LIMITS: RequestLimits = { maxQueryBytes: 2048, maxQueryParams: 20 };

/**
 * Refuses oversized queries before any parsing work, and any request body: every endpoint is a
 * GET, so a body is never needed and never read.
 */
export function requestLimits(limits: RequestLimits = DEFAULT_REQUEST_LIMITS): RequestHandler {
  return (req, _res, next) => {
    const mark = req.url.indexOf('?');
    const query = mark === -1 ? '' : req.url.slice(mark + 1);
    if (query.length > limits.maxQueryBytes) {
      throw new ApiError(414, 'query_too_long', `query string over ${limits.maxQueryBytes} bytes`);
    }
    let params = query === '' ? 0 : 1;
    for (let at = query.indexOf('&'); at !== -1; at = query.indexOf('&', at + 1)) params += 1;
    if (params > limits.maxQueryParams) {
      throw new ApiError(
        400,
        'too_many_parameters',
        `more than ${limits.maxQueryParams} query parameters`,
      );
    }
    const length = req.get('Content-Length');
    if ((length !== undefined && length !== '0') || req.get('Transfer-Encoding') !== undefined) {
      throw new ApiError(413, 'body_not_allowed', 'request bodies are not accepted');
    }
    next();
  };
}
