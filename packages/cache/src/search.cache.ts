import type { Redis } from 'ioredis';

export interface SearchCacheOptions {
  redis: Redis;
  /** Key namespace, normally QUEUE_PREFIX: "<prefix>:cache:…". */
  prefix: string;
  ttlSeconds: number;
  /** Called when Redis fails; the cache then behaves as a miss and never throws. */
  onError?: (error: unknown) => void;
}

export type CacheOutcome = 'hit' | 'miss' | 'bypass';

/**
 * Read-through cache with versioned keys: every entry's key embeds the current catalog version,
 * and ingestion bumps that version when it changed something, so stale entries are never read
 * again and simply expire (no key scans, no deletes). Redis errors degrade to the loader.
 */
export class SearchCache {
  private readonly versionKey: string;

  constructor(private readonly options: SearchCacheOptions) {
    this.versionKey = `${options.prefix}:cache:version`;
  }

  async get(
    key: string,
    load: () => Promise<string>,
  ): Promise<{ value: string; outcome: CacheOutcome }> {
    let fullKey: string;
    try {
      const version = (await this.options.redis.get(this.versionKey)) ?? '0';
      fullKey = `${this.options.prefix}:cache:v${version}:${key}`;
      const cached = await this.options.redis.get(fullKey);
      if (cached !== null) return { value: cached, outcome: 'hit' };
    } catch (error) {
      this.options.onError?.(error);
      return { value: await load(), outcome: 'bypass' };
    }
    const value = await load();
    try {
      await this.options.redis.set(fullKey, value, 'EX', this.options.ttlSeconds);
    } catch (error) {
      this.options.onError?.(error);
    }
    return { value, outcome: 'miss' };
  }

  /** Makes every cached entry unreachable; called by ingestion after it changed the catalog. */
  async invalidate(): Promise<number> {
    return this.options.redis.incr(this.versionKey);
  }

  async version(): Promise<number> {
    return Number((await this.options.redis.get(this.versionKey)) ?? '0');
  }
}
