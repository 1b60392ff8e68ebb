export {
  CatalogVersionTracker,
  type CatalogVersionTrackerOptions,
} from './catalog-version.tracker.ts';
export {
  DEFAULT_CACHE_MAX_BYTES,
  SearchCache,
  type CachedBody,
  type CacheOutcome,
  type SearchCacheOptions,
} from './search.cache.ts';
export { catalogVersionBump, coalesceBumps } from './version-bump.coalescer.ts';
