export { createRedis } from './redis.client.ts';
export {
  SearchCache,
  type CachedBody,
  type CacheOutcome,
  type SearchCacheOptions,
} from './search.cache.ts';
