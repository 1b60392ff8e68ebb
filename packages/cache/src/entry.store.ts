import type { Redis } from 'ioredis';

/*
 * Cached answers in Redis, one key per query, within a byte budget that holds across replicas and
 * whatever the Redis's own `maxmemory-policy` (the queues' Redis must not evict, so the cache
 * cannot lean on Redis to bound it). The accounting lives beside the entries:
 *
 * - `<prefix>:cache:entries`, a sorted set: entry key → when it was stored (ms);
 * - `<prefix>:cache:bytes`, a hash: entry key → bytes it is counted for, and the field `total`:
 *   their sum. An entry counts 5/4 of what MEMORY USAGE reports for it, plus its two accounting
 *   members: Redis's `used_memory` grows by more than the sum of its keys' MEMORY USAGE (client
 *   buffers, tables, allocator classes; up to a tenth more under the churn of
 *   test/cache-budget.test.ts), and the budget bounds `used_memory`.
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

// Run in one transaction right after the SET of the entry (MULTI/EXEC: nothing runs between
// them), so the value itself never passes through Lua, whose heap would keep a copy of every
// large value until its next collection. KEYS: entry, entries (zset), bytes (hash).
// ARGV: lifetime ms, now ms, budget bytes. Returns the bytes accounted after the write.
const ACCOUNT_SCRIPT = `
local entry, entries, bytes = KEYS[1], KEYS[2], KEYS[3]
local lifetime, now, budget = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local previous = tonumber(redis.call('HGET', bytes, entry) or '0')
local size = math.ceil((redis.call('MEMORY', 'USAGE', entry) or 0) * 1.25) + 2 * (#entry + 64)
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
}

interface AccountingPipeline {
  marqueeCacheAccount(
    entry: string,
    entries: string,
    bytes: string,
    lifetimeMs: number,
    now: number,
    budget: number,
  ): AccountingPipeline;
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
    redis.defineCommand('marqueeCacheAccount', { numberOfKeys: 3, lua: ACCOUNT_SCRIPT });
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
    const { redis, lifetimeMs, maxBytes } = this.options;
    if (value.length >= maxBytes) return undefined;
    const entry = this.entryKey(key);
    const transaction = redis.multi().set(entry, value, 'PX', lifetimeMs);
    (transaction as unknown as AccountingPipeline).marqueeCacheAccount(
      entry,
      this.entriesKey,
      this.bytesKey,
      lifetimeMs,
      now,
      maxBytes,
    );
    // Queued commands Redis refused (out of memory, say) abort the whole transaction.
    const replies = await transaction.exec();
    const failed = replies?.find(([error]) => error !== null)?.[0];
    if (failed) throw failed;
    return Number(replies?.[1]?.[1]);
  }
}
