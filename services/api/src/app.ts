import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import cors from 'cors';
import express from 'express';
import helmet from 'helmet';
import type { SearchCache } from '@marquee/cache';
import type { ChangeRepository, EventRepository, ProviderStatusRepository } from '@marquee/db';
import type { Logger } from '@marquee/logger';
import { httpMetrics, type Registry } from '@marquee/metrics';
import { access, AccessControl, type AccessOptions } from './access.middleware.ts';
import { cacheMetrics } from './cache.metrics.ts';
import { changesRouter } from './changes.router.ts';
import { docsRouter } from './docs.router.ts';
import { errorHandler, notFound, withEnvelopeFinalHandler } from './error.middleware.ts';
import { eventsRouter } from './events.router.ts';
import { healthRouter, type ReadinessChecks } from './health.router.ts';
import { metricsRouter } from './metrics.router.ts';
import { providersRouter, type BreakerReader } from './providers.router.ts';
import { requestContext } from './request-context.middleware.ts';
import {
  DEFAULT_REQUEST_LIMITS,
  readOnlyMethods,
  requestLimits,
} from './request-limits.middleware.ts';
import type { CachePolicy } from './response.envelope.ts';
import { createSearchFastPath } from './search.fast-path.ts';
import { SearchEndpoint, searchRouter } from './search.router.ts';
import { recordHeaders, replayHeaders } from './static-headers.middleware.ts';
import proxyaddr from 'proxy-addr';

export interface AppOptions {
  events: EventRepository;
  cache: SearchCache;
  logger: Logger;
  checks: ReadinessChecks;
  /** Prometheus registry: when given, requests are measured and served at `/metrics`. */
  metrics?: Registry;
  /**
   * What `/metrics` answers, when not just `metrics`: a node:cluster worker serves the aggregate
   * of every worker (clusterMetricsText in @marquee/metrics).
   */
  metricsText?: () => Promise<string>;
  /** `/v1/providers` is served only when given. */
  providers?: ProviderStatusRepository;
  /** `/v1/changes` is served only when given (docs/changes.md). */
  changes?: { repository: ChangeRepository; retentionDays: number };
  /** Circuit breaker reports for `/v1/providers`. */
  breakers?: BreakerReader;
  cachePolicy?: CachePolicy;
  /** API keys and quotas; without them every endpoint is open and unlimited (tests, tools). */
  access?: Omit<AccessOptions, 'logger' | 'protectedPaths'>;
  /** Origins allowed to call from a browser; `*` for any; none: no CORS headers. */
  corsOrigins?: readonly string[];
  /** Express's `trust proxy`: how to find the client's IP behind a load balancer. */
  trustProxy?: boolean | number | string;
  /** Off: every request goes through Express (to compare the two paths; default on). */
  fastPath?: boolean;
}

// Paths that need an API key; everything else is public with the per-IP quota.
const PROTECTED_PATHS = ['/v1/providers', '/v1/changes'] as const;

const DEFAULT_CACHE_POLICY: CachePolicy = { maxAgeSeconds: 5, staleIfErrorSeconds: 86_400 };

/**
 * helmet's defaults but `upgrade-insecure-requests`: served over plain HTTP under any host name
 * but localhost, it makes browsers fetch /docs' scripts over https, where nothing answers, and
 * the page stays blank. TLS, where deployed, ends in front of the api (HSTS still tells browsers
 * to keep to it). No `Cross-Origin-Opener-Policy` either: browsers ignore it on such an origin
 * and say so as a console error on /docs, and no page here opens or is opened by another window.
 * Nothing depends on the request: computed once, replayed per request.
 */
const HELMET_OPTIONS = {
  contentSecurityPolicy: { directives: { upgradeInsecureRequests: null } },
  crossOriginOpenerPolicy: false,
} as const;

/**
 * The API's request listener, holding no state of its own: every dependency comes in through
 * `options`. Hot `/search` answers go through the fast path (search.fast-path.ts); everything
 * else through the Express app. `http.createServer(createApp(options))` serves it.
 */
export function createApp({
  events,
  cache,
  logger,
  checks,
  metrics,
  metricsText,
  providers,
  changes,
  breakers,
  cachePolicy = DEFAULT_CACHE_POLICY,
  access: accessOptions,
  corsOrigins = [],
  trustProxy = false,
  fastPath: fastPathEnabled = true,
}: AppOptions): RequestListener {
  const app = express();
  app.disable('x-powered-by');
  // Bodies can be large and cache hits are served as stored: hashing each one for an ETag would
  // cost more than it saves. Cached answers carry their own, hashed once when stored.
  app.set('etag', false);
  // Values are strings, or arrays when repeated; never nested objects (the schemas rely on it).
  app.set('query parser', 'simple');
  app.set('trust proxy', trustProxy);

  const securityHeaders = recordHeaders(helmet(HELMET_OPTIONS));
  const corsHandler =
    corsOrigins.length > 0
      ? cors({ origin: corsOrigins.includes('*') ? '*' : [...corsOrigins], maxAge: 600 })
      : undefined;
  const accessControl =
    accessOptions &&
    new AccessControl({ ...accessOptions, protectedPaths: PROTECTED_PATHS, logger });
  const search = new SearchEndpoint({ events, cache, cachePolicy });

  app.use(requestContext(logger));
  if (metrics) {
    app.use(httpMetrics(metrics), cacheMetrics(metrics));
    app.use(metricsRouter(metrics.contentType, metricsText ?? (() => metrics.metrics())));
  }
  app.use(replayHeaders(securityHeaders));
  if (corsHandler) app.use(corsHandler);
  app.use(readOnlyMethods, requestLimits(DEFAULT_REQUEST_LIMITS));
  app.use(healthRouter({ checks }));
  app.use(docsRouter());
  if (accessControl) app.use(access(accessControl));
  app.use(searchRouter(search));
  app.use(eventsRouter({ events, cache, cachePolicy }));
  if (providers) app.use(providersRouter({ providers, breakers }));
  if (changes) {
    app.use(
      changesRouter({
        changes: changes.repository,
        events,
        retentionDays: changes.retentionDays,
      }),
    );
  }
  app.use(notFound);
  app.use(errorHandler(logger));

  const handle = withEnvelopeFinalHandler(app);
  if (!fastPathEnabled) return handle;
  // Express compiles `trust proxy` into this function; req.ip is proxyaddr(req, it).
  const trust = app.get('trust proxy fn') as Parameters<typeof proxyaddr>[1];
  const fastPath = createSearchFastPath({
    search,
    logger,
    limits: DEFAULT_REQUEST_LIMITS,
    securityHeaders,
    cors: corsHandler,
    access: accessControl,
    clientIp: (req) => proxyaddr(req, trust),
    metrics,
  });
  return (req: IncomingMessage, res: ServerResponse) => {
    if (!fastPath(req, res)) handle(req, res);
  };
}
