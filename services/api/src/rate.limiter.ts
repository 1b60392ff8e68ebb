import type { Redis } from 'ioredis';

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the current window ends. */
  resetMs: number;
}

// Fixed window started by the first request: INCR, and PEXPIRE when it created the counter,
// atomically in one round trip. A counter left without an expiry (never by this script) is given
// one, so no subject is ever locked out for good.
const HIT_SCRIPT = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {count, ttl}
`;

// The count so far and the window's remaining time, counting nothing.
const PEEK_SCRIPT = `
return {tonumber(redis.call('GET', KEYS[1]) or '0'), redis.call('PTTL', KEYS[1])}
`;

interface RateCommands {
  marqueeRateHit(key: string, windowMs: number): Promise<[number, number]>;
  marqueeRatePeek(key: string): Promise<[number, number]>;
}

export interface RateLimiterOptions {
  redis: Redis;
  prefix: string;
  windowMs?: number;
}

/**
 * Quotas kept in Redis, so they hold across API replicas. The caller decides what to do when
 * Redis fails (`hit` rejects): the API lets the request through.
 */
export class RateLimiter {
  private readonly windowMs: number;

  constructor(private readonly options: RateLimiterOptions) {
    this.windowMs = options.windowMs ?? 60_000;
    // EVALSHA with a fallback to EVAL on NOSCRIPT: the script travels once per connection.
    options.redis.defineCommand('marqueeRateHit', { numberOfKeys: 1, lua: HIT_SCRIPT });
    options.redis.defineCommand('marqueeRatePeek', { numberOfKeys: 1, lua: PEEK_SCRIPT });
  }

  private get commands(): RateCommands {
    return this.options.redis as unknown as RateCommands;
  }

  private keyOf(subject: string): string {
    return `${this.options.prefix}:ratelimit:${subject}`;
  }

  /** Counts one request of `subject`. */
  async hit(subject: string, limit: number): Promise<RateDecision> {
    const [count, ttl] = await this.commands.marqueeRateHit(this.keyOf(subject), this.windowMs);
    return decide(count, ttl, limit);
  }

  /** Whether one more request of `subject` would be allowed, without counting one. */
  async peek(subject: string, limit: number): Promise<RateDecision> {
    const [count, ttl] = await this.commands.marqueeRatePeek(this.keyOf(subject));
    return decide(count + 1, ttl < 0 ? this.windowMs : ttl, limit);
  }
}

function decide(count: number, ttl: number, limit: number): RateDecision {
  return {
    allowed: count <= limit,
    limit,
    remaining: Math.max(0, limit - count),
    resetMs: ttl,
  };
}
