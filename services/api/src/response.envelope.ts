import type { Response } from 'express';
import type { CacheOutcome } from '@marquee/cache';
import type { z } from 'zod';

/** An error the client caused or should see; anything else is answered as 500 `internal`. */
export class ApiError extends Error {
  override name = 'ApiError';

  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const JSON_TYPE = 'application/json; charset=utf-8';

/** Sends an already serialized body: cached bodies go out as stored, with no JSON work. */
export function sendJsonText(
  res: Response,
  status: number,
  body: string,
  cache?: CacheOutcome,
): void {
  res.status(status).set('Content-Type', JSON_TYPE);
  if (cache) res.set('X-Cache', cache);
  res.send(body);
}

export function sendError(res: Response, status: number, code: string, message: string): void {
  sendJsonText(res, status, JSON.stringify({ data: null, error: { code, message } }));
}

/** The first problem of a query, as `<parameter>: <what is wrong>`. */
export function queryError(error: z.ZodError): ApiError {
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
