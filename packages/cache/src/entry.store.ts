import type { Redis } from 'ioredis';

/*
 * Cached answers in Redis, one key per query, within a byte budget that holds across replicas and
 * whatever the Redis's own `maxmemory-policy` (the queues' Redis must not evict, so the cache
 * cannot lean on Redis to bound it). The accounting lives beside the entries:
 *
 * - `<prefix>:cache:entries`, a sorted set: entry key → when it was stored (ms);
 * - `<prefix>:cache:bytes`, a hash: entry key → bytes it holds (MEMORY USAGE of the value plus
 *   its two accounting members), and the field `total`: their sum.
 *
 * Invariant, kept by one script per write (atomic): `total` is the sum of the sizes listed and
 * stays ≤ the budget after every write; each listed entry was stored once and at most one value
 * per query exists. An entry that expired by itself is still counted until the next write drops
 * it (entries are listed by age and every write first drops the ones past their lifetime), so the
 * count errs on the side of more bytes, never fewer.
 *
 * Redis Cluster: the scripts declare the entry and both accounting keys, which share the
 * prefix's hash tag; evicted entries are reached by name inside the script, in that same slot
 * (as BullMQ's scripts do with their job keys).
 */

// KEYS: entry. ARGV: catalog version, oldest storedAt still fresh. The value, or false when there
// is none or it is of another version or too old: a stale value is never sent over the wire here.
const READ_FRESH_SCRIPT = `
local head = redis.call('GETRANGE', KEYS[1], 0, 63)
local version, storedAt = string.match(head, '^(%d+) (%d+) ')
if version ~= ARGV[1] or tonumber(storedAt) < tonumber(ARGV[2]) then return false end
return redis.call('GET', KEYS[1])
`;

// KEYS: entry, entries (zset), bytes (hash). ARGV: value, lifetime ms, now ms, budget bytes.
// Returns the bytes accounted after the write.
const WRITE_SCRIPT = `
local entry, entries, bytes = KEYS[1], KEYS[2], KEYS[3]
local lifetime, now, budget = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local previous = tonumber(redis.call('HGET', bytes, entry) or '0')
redis.call('SET', entry, ARGV[1], 'PX', lifetime)
local size = redis.call('MEMORY', 'USAGE', entry) + 2 * (#entry + 64)
redis.call('ZADD', entries, now, entry)
redis.call('HSET', bytes, entry, size)
local total = redis.call('HINCRBY', bytes, 'total', size - previous)
while true do
  local oldest = redis.call('ZRANGE', entries, 0, 0, 'WITHSCORES')
  if #oldest == 0 then break end
  if total <= budget and tonumber(oldest[2]) > now - lifetime then break end
  local key = oldest[1]
  total = redis.call('HINCRBY', bytes, 'total', -tonumber(redis.call('HGET', bytes, key) or '0'))
  redis.call('ZREM', entries, key)
  redis.call('HDEL', bytes, key)
  redis.call('UNLINK', key)
end
redis.call('PEXPIRE', entries, lifetime)
redis.call('PEXPIRE', bytes, lifetime)
return total
`;

interface EntryCommands {
  marqueeCacheReadBuffer(
    entry: string,
    version: string,
    freshSince: number,
  ): Promise<Buffer | null>;
  marqueeCacheWrite(
    entry: string,
    entries: string,
    bytes: string,
    value: Buffer,
    lifetimeMs: number,
    now: number,
    budget: number,
  ): Promise<number>;
}

export interface EntryStoreOptions {
  redis: Redis;
  prefix: string;
  /** How long an entry is kept at all (it serves as the stale copy after it stops being fresh). */
  lifetimeMs: number;
  /** Bytes every entry together may hold in Redis. */
  maxBytes: number;
}

/** One Redis key per cached query under a shared byte budget: see the invariant above. */
export class EntryStore {
  private readonly commands: EntryCommands;
  private readonly entriesKey: string;
  private readonly bytesKey: string;

  constructor(private readonly options: EntryStoreOptions) {
    const { redis, prefix } = options;
    // EVALSHA with a fallback to EVAL on NOSCRIPT: each script travels once per connection.
    redis.defineCommand('marqueeCacheRead', { numberOfKeys: 1, lua: READ_FRESH_SCRIPT });
    redis.defineCommand('marqueeCacheWrite', { numberOfKeys: 3, lua: WRITE_SCRIPT });
    this.commands = redis as unknown as EntryCommands;
    this.entriesKey = `${prefix}:cache:entries`;
    this.bytesKey = `${prefix}:cache:bytes`;
  }

  entryKey(key: string): string {
    return `${this.options.prefix}:cache:entry:${key}`;
  }

  /** The stored value when it is of `version` and was stored at or after `freshSince`. */
  readFresh(key: string, version: string, freshSince: number): Promise<Buffer | null> {
    return this.commands.marqueeCacheReadBuffer(this.entryKey(key), version, freshSince);
  }

  /** The stored value whatever its version or age (the stale copy). */
  readAny(key: string): Promise<Buffer | null> {
    return this.options.redis.getBuffer(this.entryKey(key));
  }

  /**
   * Stores `value` (replacing the query's previous one) and evicts the oldest entries past the
   * budget; a value that alone exceeds the budget is not stored. Resolves to the bytes accounted.
   */
  async write(key: string, value: Buffer, now = Date.now()): Promise<number | undefined> {
    const { lifetimeMs, maxBytes } = this.options;
    if (value.length >= maxBytes) return undefined;
    return this.commands.marqueeCacheWrite(
      this.entryKey(key),
      this.entriesKey,
      this.bytesKey,
      value,
      lifetimeMs,
      now,
      maxBytes,
    );
  }
}
