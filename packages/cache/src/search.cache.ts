import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { CatalogVersionTracker } from './catalog-version.tracker.ts';

export interface SearchCacheOptions {
  redis: Redis;
  /** Key namespace, normally QUEUE_PREFIX: "<prefix>:cache:…". */
  prefix: string;
  ttlSeconds: number;
  /**
   * Lifetime of the last good body of each key, kept under a key without the catalog version and
   * served only when the loader fails (stale-if-error). Default one day.
   */
  staleTtlSeconds?: number;
  /** Called when Redis fails; the cache then behaves as a miss and never throws. */
  onError?: (error: unknown) => void;
  /**
   * Bytes of bodies also kept in this process (default 64 MiB, 0 for none), so a hit on a large
   * body costs one small Redis read (the version), not a transfer of the body.
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

export interface CachedBody {
  /** The body bytes, exactly as stored; never mutate (concurrent requests share it). */
  body: Buffer;
  /** Strong validator of `body` (quoted), computed once when the body was loaded. */
  etag: string;
  outcome: CacheOutcome;
}

// Stored value: `<etag>\n<body>`. One GET returns both, and the body is a view of the reply
// buffer, so a hit copies no bytes and hashes nothing.
const SEPARATOR = 0x0a;

function seal(text: string): { body: Buffer; etag: string } {
  const body = Buffer.from(text, 'utf8');
  const etag = `"${createHash('sha1').update(body).digest('base64url')}"`;
  return { body, etag };
}

function unseal(stored: Buffer): { body: Buffer; etag: string } | null {
  const split = stored.indexOf(SEPARATOR);
  if (split <= 0) return null;
  return { etag: stored.toString('latin1', 0, split), body: stored.subarray(split + 1) };
}

interface Remembered {
  body: Buffer;
  etag: string;
  /** One cache TTL after it was remembered, like an entry stored in Redis at that moment. */
  expiresAt: number;
}

/** Least recently used bodies up to a byte budget (a Map iterates in insertion order). */
class MemoryTier {
  private readonly entries = new Map<string, Remembered>();
  private bytes = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly ttlMs: number,
  ) {}

  get(key: string): { body: Buffer; etag: string } | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    this.entries.delete(key);
    if (entry.expiresAt <= Date.now()) {
      this.bytes -= entry.body.length;
      return undefined;
    }
    this.entries.set(key, entry);
    return entry;
  }

  /** Like `get` without refreshing the entry's recency. */
  has(key: string): boolean {
    const entry = this.entries.get(key);
    return entry !== undefined && entry.expiresAt > Date.now();
  }

  set(key: string, { body, etag }: { body: Buffer; etag: string }): void {
    if (body.length > this.maxBytes / 4) return;
    const old = this.entries.get(key);
    if (old) {
      this.bytes -= old.body.length;
      this.entries.delete(key);
    }
    const entry = { body, etag, expiresAt: Date.now() + this.ttlMs };
    this.entries.set(key, entry);
    this.bytes += entry.body.length;
    for (const [oldest, evicted] of this.entries) {
      if (this.bytes <= this.maxBytes) break;
      this.entries.delete(oldest);
      this.bytes -= evicted.body.length;
    }
  }
}

/**
 * Read-through cache with versioned keys: every entry's key embeds the current catalog version,
 * and ingestion bumps that version when it changed something, so outdated entries are never read
 * again and simply expire (no key scans, no deletes). Redis errors degrade to the loader.
 *
 * Concurrent calls for the same key in one process share one lookup and at most one load
 * (single-flight), so a herd of identical misses costs one database query per replica.
 */
export class SearchCache {
  private readonly versionKey: string;
  private readonly staleTtlSeconds: number;
  private readonly inflight = new Map<string, Promise<CachedBody>>();
  private readonly memory: MemoryTier;
  private readonly versionChannel: string;
  private readonly tracker: CatalogVersionTracker | undefined;

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
    this.staleTtlSeconds = options.staleTtlSeconds ?? 86_400;
    this.memory = new MemoryTier(
      options.memoryBytes ?? 64 * 1024 * 1024,
      options.ttlSeconds * 1000,
    );
  }

  /**
   * Whether `get(key)` would answer at once from this process's memory (catalog version known,
   * body remembered, no flight pending): lets a caller pick a cheaper route for hot answers.
   */
  isHot(key: string): boolean {
    if (this.inflight.has(key)) return false;
    // known(), not current(): a check must not start a read that nobody awaits.
    const known = this.tracker?.known();
    return known !== undefined && this.memory.has(this.fullKey(known, key));
  }

  get(key: string, load: () => Promise<string>): Promise<CachedBody> {
    const pending = this.inflight.get(key);
    if (pending) return pending;
    const known = this.tracker?.current();
    if (typeof known === 'string') {
      // The hot path: version known in this process, body in memory, no Redis and no flight.
      const remembered = this.memory.get(this.fullKey(known, key));
      if (remembered) return Promise.resolve({ ...remembered, outcome: 'hit' });
    }
    // Deleted before the waiters resume: a request arriving afterwards looks up afresh.
    const flight = this.lookup(key, load).finally(() => this.inflight.delete(key));
    this.inflight.set(key, flight);
    return flight;
  }

  private async lookup(key: string, load: () => Promise<string>): Promise<CachedBody> {
    const { redis } = this.options;
    let fullKey: string | undefined;
    try {
      const version = this.tracker
        ? await this.tracker.current()
        : ((await redis.get(this.versionKey)) ?? '0');
      fullKey = this.fullKey(version, key);
      // Keys embed the version, so an entry in memory is exactly as current as Redis's.
      const remembered = this.memory.get(fullKey);
      if (remembered) return { ...remembered, outcome: 'hit' };
      const stored = await redis.getBuffer(fullKey);
      const entry = stored && unseal(stored);
      if (entry) {
        this.memory.set(fullKey, entry);
        return { ...entry, outcome: 'hit' };
      }
    } catch (error) {
      this.options.onError?.(error);
      fullKey = undefined;
    }

    let entry: { body: Buffer; etag: string };
    try {
      entry = seal(await load());
    } catch (error) {
      const stale = fullKey === undefined ? null : await this.readStale(key);
      if (stale) return { ...stale, outcome: 'stale' };
      throw error;
    }
    if (fullKey === undefined) return { ...entry, outcome: 'bypass' };

    this.memory.set(fullKey, entry);
    // The answer does not wait for Redis: this process already has the body in memory, and a
    // large body takes milliseconds to store. `store` never rejects.
    void this.store(key, fullKey, entry);
    return { ...entry, outcome: 'miss' };
  }

  private async store(
    key: string,
    fullKey: string,
    entry: { body: Buffer; etag: string },
  ): Promise<void> {
    const stored = Buffer.concat([Buffer.from(`${entry.etag}\n`, 'latin1'), entry.body]);
    try {
      const replies = await this.options.redis
        .pipeline()
        .set(fullKey, stored, 'EX', this.options.ttlSeconds)
        .set(this.staleKey(key), stored, 'EX', this.staleTtlSeconds)
        .exec();
      const failed = replies?.find(([error]) => error !== null)?.[0];
      if (failed) throw failed;
    } catch (error) {
      this.options.onError?.(error);
    }
  }

  private fullKey(version: string, key: string): string {
    return `${this.options.prefix}:cache:v${version}:${key}`;
  }

  private staleKey(key: string): string {
    return `${this.options.prefix}:cache:stale:${key}`;
  }

  private async readStale(key: string): Promise<{ body: Buffer; etag: string } | null> {
    try {
      const stored = await this.options.redis.getBuffer(this.staleKey(key));
      return stored && unseal(stored);
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
