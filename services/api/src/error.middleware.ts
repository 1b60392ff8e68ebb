import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Express } from 'express';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { isDatabaseUnavailable } from '@marquee/db';
import type { Logger } from '@marquee/logger';
import { requestIdOf } from './request-context.middleware.ts';
import { ApiError, sendError } from './response.envelope.ts';

export const notFound: RequestHandler = (req, _res, next) => {
  next(new ApiError(404, 'not_found', `no route for ${req.method} ${req.path}`));
};

/**
 * An error raised by Express or a parser for bad input (http-errors style, or the router's
 * undecodable parameter) carries a 4xx status; its message is shown only when marked `expose`.
 */
function clientError(error: unknown): ApiError | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const { status, statusCode, expose, message } = error as Record<string, unknown>;
  const code = typeof status === 'number' ? status : statusCode;
  if (typeof code !== 'number' || code < 400 || code > 499) return undefined;
  return new ApiError(
    code,
    'bad_request',
    expose === true && typeof message === 'string' ? message : 'malformed request',
  );
}

interface RequestSummary {
  requestId: string;
  method: string | undefined;
  path: string;
}

/** How long a client is asked to wait when the catalog is unreachable (readiness says 503 too). */
const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;

/**
 * The ApiError to answer: an unreachable database is an outage (503 with Retry-After, logged as a
 * warning), anything else unexpected a bug (logged with its details, answered as 500).
 */
function answerFor(logger: Logger, error: unknown, request: RequestSummary): ApiError {
  const expected = error instanceof ApiError ? error : clientError(error);
  if (expected) return expected;
  if (isDatabaseUnavailable(error)) {
    logger.warn('catalog unavailable', {
      ...request,
      error: error instanceof Error ? error.message : String(error),
    });
    return new ApiError(
      503,
      'unavailable',
      'the catalog is unavailable; retry later',
      UNAVAILABLE_RETRY_AFTER_SECONDS,
    );
  }
  logger.error('request failed', {
    ...request,
    error:
      error instanceof Error
        ? { name: error.name, message: error.message, stack: error.stack }
        : String(error),
  });
  return new ApiError(500, 'internal', 'internal error');
}

/**
 * Answers `error` with the JSON envelope; the client never sees an unexpected error's details.
 * For the fast path, which has no Express error handler; the caller checks that no response is
 * under way.
 */
export function respondWithError(
  logger: Logger,
  error: unknown,
  res: ServerResponse,
  request: RequestSummary,
): void {
  const answer = answerFor(logger, error, request);
  sendError(res, answer);
}

/** Every error becomes the JSON envelope. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    const answer = answerFor(logger, error, {
      requestId: requestIdOf(res),
      method: req.method,
      path: req.path,
    });
    // A response already under way cannot change its status: Express's final handler drops
    // the connection instead.
    if (res.headersSent) {
      next(error);
      return;
    }
    sendError(res, answer);
  };
}

/**
 * The app as a listener whose final handler answers with the envelope. Express's router skips
 * every middleware for a request target it cannot parse (an absolute-form target with a
 * malformed host: `GET http://[::1/ HTTP/1.1`) and calls the final handler, whose default answers
 * an HTML 404; this one answers the 400 envelope. Its only other caller is an error met once a
 * response was under way: the connection is dropped, as Express's own would.
 */
export function withEnvelopeFinalHandler(app: Express): RequestListener {
  const handle = app as unknown as (
    req: IncomingMessage,
    res: ServerResponse,
    done: (error?: unknown) => void,
  ) => void;
  return (req, res) => {
    handle(req, res, () => {
      if (res.headersSent) {
        req.socket.destroy();
        return;
      }
      sendError(res, new ApiError(400, 'bad_request', 'malformed request target'));
    });
  };
}
