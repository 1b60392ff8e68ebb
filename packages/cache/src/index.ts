export {
  CatalogVersionTracker,
  type CatalogVersionTrackerOptions,
} from './catalog-version.tracker.ts';
export { createRedis, FAIL_FAST_COMMAND_TIMEOUT_MS } from './redis.client.ts';
export {
  DEFAULT_CACHE_MAX_BYTES,
  SearchCache,
  type CachedBody,
  type CacheOutcome,
  type SearchCacheOptions,
} from './search.cache.ts';
