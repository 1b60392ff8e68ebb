import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import { decodeEntry, encodeEntry, sealBody, type SealedBody } from './cache-entry.codec.ts';
import { CatalogVersionTracker } from './catalog-version.tracker.ts';
import { EntryStore } from './entry.store.ts';

export const DEFAULT_CACHE_MAX_BYTES = 64 * 1024 * 1024;

export interface SearchCacheOptions {
  redis: Redis;
  /** Key namespace, normally QUEUE_PREFIX: "<prefix>:cache:…". */
  prefix: string;
  /** How long a stored answer is served as a hit (a version bump ends it at once). */
  ttlSeconds: number;
  /**
   * How long an answer is kept at all: past `ttlSeconds` (or a version bump) it is served only
   * when the loader fails (stale-if-error), until a fresh answer replaces it. Default one day.
   */
  staleTtlSeconds?: number;
  /**
   * Bytes the cache may hold in Redis, all replicas together (default 64 MiB): past it the
   * oldest entries go. Also the default of `memoryBytes`.
   */
  maxBytes?: number;
  /** Called when Redis fails; the cache then behaves as a miss and never throws. */
  onError?: (error: unknown) => void;
  /**
   * Bytes of bodies also kept in this process (default `maxBytes`, 0 for none), so a hit on a
   * large body costs no Redis transfer at all.
   */
  memoryBytes?: number;
  /**
   * A dedicated connection for SUBSCRIBE: when given, the catalog version is kept in this process
   * and refreshed by the messages `bumpVersion()` publishes, so a hit in the memory tier costs no
   * Redis round trip. Without it the version is read from Redis on every lookup.
   */
  versionSubscriber?: Redis;
  /** With `versionSubscriber`: the staleness bound of the kept version (default 1,000 ms). */
  versionMaxAgeMs?: number;
}

/**
 * - hit: served from the current version's entry;
 * - miss: loaded, then stored;
 * - bypass: Redis was unusable, loaded and not stored;
 * - stale: the loader failed and the last good body was served instead.
 */
export type CacheOutcome = 'hit' | 'miss' | 'bypass' | 'stale';

export interface CachedBody extends SealedBody {
  outcome: CacheOutcome;
}

/** A process's memory tier: least recently used bodies up to a byte budget, each with a TTL. */
function memoryTier(maxBytes: number, ttlMs: number): LRUCache<string, SealedBody> | undefined {
  if (maxBytes <= 0) return undefined;
  return new LRUCache<string, SealedBody>({
    maxSize: maxBytes,
    // A body over a quarter of the tier would push out most of what is hot.
    maxEntrySize: maxBytes / 4,
    sizeCalculation: (entry, key) => entry.body.length + key.length,
    ttl: ttlMs,
  });
}

/**
 * Read-through cache of answers. Each query has one entry in Redis holding its last good body
 * and the catalog version it was loaded under; ingestion bumps that version when it changed
 * something, so an entry of an older version is never a hit again (no key scans, no deletes) but
 * stays as the stale copy served while the loader fails. Entries live within a byte budget shared
 * by every replica (entry.store.ts). Redis errors degrade to the loader.
 *
 * Concurrent calls for the same key in one process share one lookup and at most one load
 * (single-flight), so a herd of identical misses costs one database query per replica.
 */
export class SearchCache {
  private readonly versionKey: string;
  private readonly versionChannel: string;
  private readonly ttlMs: number;
  private readonly inflight = new Map<string, Promise<CachedBody>>();
  private readonly writes = new Set<Promise<void>>();
  private readonly memory: LRUCache<string, SealedBody> | undefined;
  private readonly tracker: CatalogVersionTracker | undefined;
  private readonly entries: EntryStore;

  constructor(private readonly options: SearchCacheOptions) {
    this.versionKey = `${options.prefix}:cache:version`;
    this.versionChannel = `${options.prefix}:cache:version-bumped`;
    this.tracker =
      options.versionSubscriber &&
      new CatalogVersionTracker({
        redis: options.redis,
        subscriber: options.versionSubscriber,
        versionKey: this.versionKey,
        channel: this.versionChannel,
        maxAgeMs: options.versionMaxAgeMs ?? 1_000,
      });
    this.ttlMs = options.ttlSeconds * 1000;
    const maxBytes = options.maxBytes ?? DEFAULT_CACHE_MAX_BYTES;
    this.entries = new EntryStore({
      redis: options.redis,
      prefix: options.prefix,
      lifetimeMs: Math.max(options.staleTtlSeconds ?? 86_400, options.ttlSeconds) * 1000,
      maxBytes,
    });
    this.memory = memoryTier(options.memoryBytes ?? maxBytes, this.ttlMs);
  }

  /**
   * Whether `get(key)` would answer at once from this process's memory (catalog version known,
   * body remembered, no flight pending): lets a caller pick a cheaper route for hot answers.
   */
  isHot(key: string): boolean {
    if (this.inflight.has(key)) return false;
    // known(), not current(): a check must not start a read that nobody awaits.
    const known = this.tracker?.known();
    return known !== undefined && this.memory?.has(memoryKey(known, key)) === true;
  }

  get(key: string, load: () => Promise<string>): Promise<CachedBody> {
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const known = this.tracker?.current();
    if (typeof known === 'string') {
      // The hot path: version known in this process, body in memory, no Redis and no flight.
      const remembered = this.memory?.get(memoryKey(known, key));
      if (remembered) return Promise.resolve({ ...remembered, outcome: 'hit' });
    }
    // Deleted before the waiters resume: a request arriving afterwards looks up afresh.
    const flight = this.lookup(key, load).finally(() => this.inflight.delete(key));
    this.inflight.set(key, flight);
    return flight;
  }

  /** Resolves once every write started so far has reached Redis (or failed and been reported). */
  async settled(): Promise<void> {
    await Promise.all([...this.writes]);
  }

  private async lookup(key: string, load: () => Promise<string>): Promise<CachedBody> {
    let version: string | undefined;
    try {
      version = await this.currentVersion();
      const hit = await this.readHit(key, version);
      if (hit) return { ...hit, outcome: 'hit' };
    } catch (error) {
      this.options.onError?.(error);
      version = undefined;
    }

    let loaded: SealedBody;
    try {
      loaded = sealBody(await load());
    } catch (error) {
      const stale = version === undefined ? null : await this.readStale(key);
      if (stale) return { ...stale, outcome: 'stale' };
      throw error;
    }
    if (version === undefined) return { ...loaded, outcome: 'bypass' };

    this.memory?.set(memoryKey(version, key), loaded);
    // The answer does not wait for Redis: this process already has the body in memory, and a
    // large body takes milliseconds to store.
    this.write(key, { ...loaded, version, storedAt: Date.now() });
    return { ...loaded, outcome: 'miss' };
  }

  private async currentVersion(): Promise<string> {
    if (this.tracker) return this.tracker.current();
    return (await this.options.redis.get(this.versionKey)) ?? '0';
  }

  /** The current version's body from memory, else from Redis (then remembered). */
  private async readHit(key: string, version: string): Promise<SealedBody | undefined> {
    const inMemory = memoryKey(version, key);
    // Keyed by version, so an entry in memory is exactly as current as Redis's.
    const remembered = this.memory?.get(inMemory);
    if (remembered) return remembered;
    const now = Date.now();
    const stored = await this.entries.readFresh(key, version, now - this.ttlMs);
    const entry = stored && decodeEntry(stored);
    if (!entry) return undefined;
    const { body, etag } = entry;
    // Remembered only for what is left of its freshness, as Redis would serve it.
    this.memory?.set(
      inMemory,
      { body, etag },
      { ttl: Math.max(1, entry.storedAt + this.ttlMs - now) },
    );
    return { body, etag };
  }

  private write(key: string, entry: Parameters<typeof encodeEntry>[0]): void {
    const write = this.entries
      .write(key, encodeEntry(entry))
      .then(
        () => undefined,
        (error: unknown) => this.options.onError?.(error),
      )
      .finally(() => this.writes.delete(write));
    this.writes.add(write);
  }

  private async readStale(key: string): Promise<SealedBody | null> {
    try {
      const stored = await this.entries.readAny(key);
      const entry = stored && decodeEntry(stored);
      return entry ? { body: entry.body, etag: entry.etag } : null;
    } catch (error) {
      this.options.onError?.(error);
      return null;
    }
  }

  /**
   * Makes every cached entry unreachable; called by ingestion after it changed the catalog.
   * Processes that keep the version learn the new one from the message; should the PUBLISH fail,
   * they read it again within their staleness bound, so the bump still counts (reported, not thrown).
   */
  async bumpVersion(): Promise<number> {
    const version = await this.options.redis.incr(this.versionKey);
    this.tracker?.bumpedTo(String(version));
    try {
      await this.options.redis.publish(this.versionChannel, String(version));
    } catch (error) {
      this.options.onError?.(error);
    }
    return version;
  }

  async version(): Promise<number> {
    return Number((await this.options.redis.get(this.versionKey)) ?? '0');
  }
}

function memoryKey(version: string, key: string): string {
  return `${version}:${key}`;
}
