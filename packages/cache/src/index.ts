export {
  CatalogVersionTracker,
  type CatalogVersionTrackerOptions,
} from './catalog-version.tracker.ts';
export { createRedis } from './redis.client.ts';
export {
  SearchCache,
  type CachedBody,
  type CacheOutcome,
  type SearchCacheOptions,
} from './search.cache.ts';
