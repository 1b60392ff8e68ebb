export {
  CatalogVersionTracker,
  type CatalogVersionTrackerOptions,
} from './catalog-version.tracker.ts';
export {
  SearchCache,
  type CachedBody,
  type CacheOutcome,
  type SearchCacheOptions,
} from './search.cache.ts';
