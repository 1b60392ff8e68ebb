import express from 'express';
import type { SearchCache } from '@marquee/cache';
import type { EventRepository } from '@marquee/db';
import type { Logger } from '@marquee/logger';
import { errorHandler, notFound } from './error.middleware.ts';
import { eventsRouter } from './events.router.ts';
import { healthRouter, type ReadinessChecks } from './health.router.ts';
import { requestContext } from './request-context.middleware.ts';
import { searchRouter } from './search.router.ts';

export interface AppOptions {
  events: EventRepository;
  cache: SearchCache;
  logger: Logger;
  checks: ReadinessChecks;
}

/** The HTTP app, holding no state of its own: every dependency comes in through `options`. */
export function createApp({ events, cache, logger, checks }: AppOptions): express.Express {
  const app = express();
  app.disable('x-powered-by');
  // Bodies can be large and cache hits are served as stored: hashing each one for an ETag would
  // cost more than it saves.
  app.set('etag', false);
  // Values are strings, or arrays when repeated; never nested objects (the schemas rely on it).
  app.set('query parser', 'simple');

  app.use(requestContext(logger));
  app.use(healthRouter({ checks }));
  app.use(searchRouter({ events, cache }));
  app.use(eventsRouter({ events, cache }));
  app.use(notFound);
  app.use(errorHandler(logger));
  return app;
}
