export { createRedis } from './redis.client.ts';
export { SearchCache, type CacheOutcome, type SearchCacheOptions } from './search.cache.ts';
