export { createApp, type AppOptions } from './app.ts';
export { API_DB_POOL_MAX, apiEnvSchema, type ApiEnv } from './env.schema.ts';
export type { ReadinessChecks } from './health.router.ts';
export { decodeCursor, encodeCursor, type PageCursor } from './page-cursor.codec.ts';
export {
  cursorParam,
  endsAtParam,
  eventsSearchQuerySchema,
  limitParam,
  MAX_PAGE_SIZE,
  searchQuerySchema,
  startsAtParam,
  type EventsSearchQuery,
  type SearchQuery,
} from './search-query.schema.ts';
