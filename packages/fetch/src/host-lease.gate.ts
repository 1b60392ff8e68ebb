import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { FetchError } from './http.fetcher.ts';

export interface HostLeaseOptions {
  /** Requests to one host in flight at once, across every worker (POLITE_HOST_CONCURRENCY). */
  concurrency: number;
  /** Least time between the starts of two requests to one host (POLITE_MIN_DELAY_MS). */
  minDelayMs: number;
  /**
   * A lease not released after this is void: a killed worker blocks a host at most this long.
   * Must exceed the fetch's whole deadline, or a slow fetch would overrun the limit.
   */
  leaseTtlMs: number;
  /** Longer waits are not slept through: the job is delayed instead (POLITE_MAX_WAIT_MS). */
  maxWaitMs: number;
}

/**
 * The host is busy for longer than the worker may wait. A `rate-limited` FetchError, so the sync
 * processor moves the job to delayed without spending an attempt.
 */
export class HostBusyError extends FetchError {
  constructor(host: string, retryAfterMs: number) {
    super(`host ${host} is busy (politeness limit); retry in ${retryAfterMs} ms`, 'rate-limited', {
      retryAfterMs,
    });
  }
}

// One hash per host: field `next` is the earliest time (ms, Redis clock) the next request may
// start; each `lease:<token>` field holds its lease's expiry. Expired leases are dropped on every
// call, so a crashed holder frees its slot after leaseTtl. Redis' clock is the only clock used,
// so workers on hosts with skewed clocks agree. Returns {0} (acquired), {1, ms} (too soon after
// the last start) or {2, ms until the soonest lease expiry} (all slots taken).
const ACQUIRE = `
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local minDelay = tonumber(ARGV[2])
local ttl = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local entries = redis.call('HGETALL', key)
local active, soonest, nextAt = 0, nil, 0
for i = 1, #entries, 2 do
  local field, value = entries[i], tonumber(entries[i + 1])
  if field == 'next' then
    nextAt = value
  elseif value <= now then
    redis.call('HDEL', key, field)
  else
    active = active + 1
    if soonest == nil or value < soonest then soonest = value end
  end
end
if active >= limit then return {2, soonest - now} end
if now < nextAt then return {1, nextAt - now} end
redis.call('HSET', key, 'lease:' .. ARGV[4], now + ttl, 'next', now + minDelay)
redis.call('PEXPIRE', key, math.max(ttl, minDelay))
return {0, 0}
`;

// While every slot is taken, a release is not announced: poll at this pace.
const BUSY_POLL_MS = 100;

/**
 * Per-host politeness shared by all workers through Redis (`<prefix>:polite:<host>`): at most
 * `concurrency` requests in flight per host and starts at least `minDelayMs` apart.
 */
export class HostLeaseGate {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly options: HostLeaseOptions,
  ) {}

  keyOf(host: string): string {
    return `${this.prefix}:polite:${host}`;
  }

  /** Runs `call` holding a lease on `url`'s host; throws HostBusyError rather than wait long. */
  async around<T>(url: string, call: () => Promise<T>): Promise<T> {
    const host = new URL(url).host.toLowerCase();
    const release = await this.acquire(host);
    try {
      return await call();
    } finally {
      await release();
    }
  }

  async acquire(host: string): Promise<() => Promise<void>> {
    const key = this.keyOf(host);
    const token = randomUUID();
    const { concurrency, minDelayMs, leaseTtlMs, maxWaitMs } = this.options;
    const deadline = Date.now() + maxWaitMs;
    for (;;) {
      const [code, ms] = (await this.redis.eval(
        ACQUIRE,
        1,
        key,
        concurrency,
        minDelayMs,
        leaseTtlMs,
        token,
      )) as [number, number];
      if (code === 0) {
        return async () => {
          await this.redis.hdel(key, `lease:${token}`);
        };
      }
      const wait = code === 1 ? ms : Math.min(ms, BUSY_POLL_MS);
      if (Date.now() + wait > deadline) {
        // Jitter spreads the delayed jobs of one host so they do not all come back at once.
        const jitter = Math.floor(Math.random() * Math.max(minDelayMs, BUSY_POLL_MS));
        throw new HostBusyError(host, (code === 1 ? ms : Math.min(ms, maxWaitMs)) + jitter);
      }
      await sleep(wait);
    }
  }
}
