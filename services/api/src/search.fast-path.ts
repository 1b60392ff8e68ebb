import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '@marquee/logger';
import {
  Counter,
  HTTP_DURATION_METRIC,
  METRIC_PREFIX,
  type Histogram,
  type Registry,
} from '@marquee/metrics';
import type { AccessControl } from './access.middleware.ts';
import { CACHE_METRIC, CACHE_OUTCOMES } from './cache.metrics.ts';
import { respondWithError } from './error.middleware.ts';
import { rawQueryOf } from './parsed-query.cache.ts';
import { trackRequest } from './request-context.middleware.ts';
import { requestLimitError, type RequestLimits } from './request-limits.middleware.ts';
import type { SearchEndpoint, SearchWindow } from './search.router.ts';
import type { HeaderReplay } from './static-headers.middleware.ts';

type ConnectMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

export interface SearchFastPathOptions {
  search: SearchEndpoint;
  logger: Logger;
  limits: RequestLimits;
  /** helmet's headers, as the Express app replays them. */
  securityHeaders: HeaderReplay;
  /** The Express app's own CORS middleware instance (static options: synchronous). */
  cors?: ConnectMiddleware;
  access?: AccessControl;
  /** The client's address as Express's `req.ip` computes it (the same `trust proxy`). */
  clientIp: (req: IncomingMessage) => string | undefined;
  /** The registry the Express app's metrics middlewares registered their metrics in. */
  metrics?: Registry;
}

/** Answers the request and returns true, or returns false having touched nothing. */
export type FastPath = (req: IncomingMessage, res: ServerResponse) => boolean;

const FAST_PATH_METRIC = `${METRIC_PREFIX}api_fast_path_requests_total`;

const ROUTE = '/search';
const QUESTION_MARK = 63;

/**
 * The hot request of this API, a `/search` whose answer this process holds in memory, answered
 * without Express: the same steps as the Express app (request id and log line, metrics, helmet's
 * headers, CORS, request limits, API key and quota, ETag/304), in the same order, through the same
 * functions, so the answer is the same bytes and headers. Express's per-request work (request and
 * response decoration, a dozen router layers) cost about a third of the throughput of cached
 * answers; see bench/RESULTS.md. Everything else (other routes, a first or invalid query, a cache
 * miss, CORS preflight, conditional requests it does not validate) goes to Express.
 */
export function createSearchFastPath(options: SearchFastPathOptions): FastPath {
  const { search, logger, limits, securityHeaders, cors, access, clientIp } = options;
  const duration = options.metrics?.getSingleMetric(HTTP_DURATION_METRIC) as
    Histogram<'method' | 'route' | 'status_code'> | undefined;
  const outcomes = options.metrics?.getSingleMetric(CACHE_METRIC) as
    Counter<'route' | 'outcome'> | undefined;
  if (options.metrics && (!duration || !outcomes)) {
    throw new Error('createSearchFastPath: the registry lacks the HTTP metrics');
  }
  const taken =
    options.metrics &&
    new Counter({
      name: FAST_PATH_METRIC,
      help: 'Requests answered by the /search fast path, without Express (also in the HTTP histogram)',
      registers: [options.metrics],
    });

  async function answer(
    req: IncomingMessage,
    res: ServerResponse,
    window: SearchWindow,
    requestId: string,
  ): Promise<void> {
    try {
      if (access) await access.admit(req, res, ROUTE, clientIp(req));
      await search.answer(req, res, window);
    } catch (error) {
      // As Express's final handler does when a response is already under way.
      if (res.headersSent) {
        res.destroy();
        return;
      }
      respondWithError(logger, error, res, { requestId, method: req.method, path: ROUTE });
    }
  }

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    const url = req.url ?? '';
    if (
      !url.startsWith(ROUTE) ||
      (url.length > ROUTE.length && url.charCodeAt(ROUTE.length) !== QUESTION_MARK)
    ) {
      return false;
    }
    if (requestLimitError(url, req.headers, limits)) return false;
    const window = search.hotWindow(rawQueryOf(url));
    if (!window) return false;

    // The request is ours from here on.
    taken?.inc();
    const started = process.hrtime.bigint();
    const requestId = trackRequest(logger, req, res, () => ROUTE);
    if (duration && outcomes) {
      res.once('close', () => {
        duration.observe(
          { method: req.method, route: ROUTE, status_code: String(res.statusCode) },
          Number(process.hrtime.bigint() - started) / 1e9,
        );
        const outcome = res.getHeader('X-Cache');
        if (typeof outcome === 'string' && CACHE_OUTCOMES.has(outcome)) {
          outcomes.inc({ route: ROUTE, outcome });
        }
      });
    }
    securityHeaders(res);
    if (cors) {
      cors(req, res, (error) => {
        if (error)
          respondWithError(logger, error, res, { requestId, method: req.method, path: ROUTE });
        else void answer(req, res, window, requestId);
      });
    } else {
      void answer(req, res, window, requestId);
    }
    return true;
  };
}
