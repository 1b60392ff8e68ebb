import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler, Response } from 'express';
import type { Logger } from '@marquee/logger';

// An incoming id is echoed only when it cannot break a header or a log line.
const SANE_REQUEST_ID = /^[\w.:-]{1,128}$/;

export function requestIdOf(res: Response): string {
  return res.locals.requestId as string;
}

/**
 * The start of every request, on the Express path and the fast path alike: an id (response header
 * and logs), and one `http` log line when the response ends. Returns the id.
 */
export function trackRequest(
  logger: Logger,
  req: IncomingMessage,
  res: ServerResponse,
  path: () => string,
): string {
  const started = process.hrtime.bigint();
  const incoming = req.headers['x-request-id'];
  const requestId =
    typeof incoming === 'string' && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', requestId);
  // Below the logger's level the line would be built and dropped: skip the listener too.
  if (!logger.isLevelEnabled('http')) return requestId;
  // "close" also fires when the client goes away before the response is complete.
  res.once('close', () => {
    logger.http('request', {
      requestId,
      method: req.method,
      path: path(),
      status: res.statusCode,
      ms: Math.round(Number(process.hrtime.bigint() - started) / 1e4) / 100,
      ...(res.writableFinished ? {} : { aborted: true }),
    });
  });
  return requestId;
}

/** Gives every request an id (response header and logs) and logs one `http` line when it ends. */
export function requestContext(logger: Logger): RequestHandler {
  return (req, res, next) => {
    res.locals.requestId = trackRequest(logger, req, res, () => req.path);
    next();
  };
}
