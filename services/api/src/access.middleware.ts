import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { ApiKeyInfo } from '@marquee/db';
import type { Logger } from '@marquee/logger';
import { LRUCache } from 'lru-cache';
import type { RateDecision, RateLimiter } from './rate.limiter.ts';
import { ApiError } from './response.envelope.ts';

interface KeyVerifier {
  verify(key: string): Promise<ApiKeyInfo | null>;
}

export interface AccessOptions {
  keys: KeyVerifier;
  limiter: RateLimiter;
  /** Requests per minute and IP without a key. */
  publicQuotaPerMinute: number;
  /** Requests per minute of a key that has no quota of its own. */
  keyQuotaPerMinute: number;
  /** Path prefixes that need a key. */
  protectedPaths: readonly string[];
  logger: Logger;
  /** How long a verified (or refused) key is trusted before it is looked up again. */
  keyCacheMs?: number;
}

const KEY_HEADER = 'X-API-Key';
const KEY_HEADER_LOWER = 'x-api-key';
const KEY_CACHE_SIZE = 10_000;

type Verdict = ApiKeyInfo | null;

/**
 * Remembers key lookups (found or not, pending or done) briefly, so a request costs no database
 * query and a burst with a new key costs one; revocation lags by `ttlMs`. A failed lookup is
 * forgotten: the next request tries again.
 */
class CachedVerifier {
  private readonly lookups: LRUCache<string, Promise<Verdict>> | undefined;

  constructor(
    private readonly keys: KeyVerifier,
    ttlMs: number,
  ) {
    // lru-cache reads a ttl of 0 as "never expires": 0 means no cache here.
    this.lookups = ttlMs > 0 ? new LRUCache({ max: KEY_CACHE_SIZE, ttl: ttlMs }) : undefined;
  }

  /** The remembered or pending lookup of `key`; undefined when none would be reused. */
  known(key: string): Promise<Verdict> | undefined {
    return this.lookups?.get(key);
  }

  lookup(key: string): Promise<Verdict> {
    const verdict = this.keys.verify(key);
    if (this.lookups) {
      this.lookups.set(key, verdict);
      verdict.catch(() => this.lookups?.delete(key));
    }
    return verdict;
  }
}

/** While Redis is down every request fails open; one warning per interval is enough. */
function throttled(logger: Logger, intervalMs = 10_000): (error: unknown) => void {
  let last = 0;
  return (error) => {
    const now = Date.now();
    if (now - last < intervalMs) return;
    last = now;
    logger.warn('rate limiter unavailable; letting requests through', {
      error: error instanceof Error ? error.message : String(error),
    });
  };
}

function setQuotaHeaders(res: ServerResponse, decision: RateDecision): void {
  res.setHeader('RateLimit-Limit', String(decision.limit));
  res.setHeader('RateLimit-Remaining', String(decision.remaining));
  res.setHeader('RateLimit-Reset', String(Math.ceil(decision.resetMs / 1000)));
}

function rateLimited(res: ServerResponse, decision: RateDecision): ApiError {
  res.setHeader('Retry-After', String(Math.max(1, Math.ceil(decision.resetMs / 1000))));
  return new ApiError(
    429,
    'rate_limited',
    `over the quota of ${decision.limit} requests per minute`,
  );
}

const invalidKey = () => new ApiError(401, 'invalid_api_key', 'unknown or revoked API key');

/**
 * API keys and quotas. A key (X-API-Key) identifies the caller and its quota; without one the
 * caller's IP gets the public quota. A wrong key is refused even where none is needed, so a
 * client notices a revoked key, and counts against its IP's public quota: 401 until that is
 * spent, then 429. Wrong keys are also counted apart, per IP: past the public quota of them in a
 * window, a key this process does not know is refused (429) without a lookup, so a flood of
 * made-up keys costs no database query, while a valid key behind an IP that only spent its
 * anonymous quota is still looked up. Quotas live in Redis; when Redis fails the request goes
 * through. Shared by the Express middleware and the fast path, so both admit the same requests.
 */
export class AccessControl {
  private readonly keys: CachedVerifier;
  private readonly warn: (error: unknown) => void;

  constructor(private readonly options: AccessOptions) {
    this.keys = new CachedVerifier(options.keys, options.keyCacheMs ?? 30_000);
    this.warn = throttled(options.logger);
  }

  /** Throws the ApiError to answer (401, 429); sets the quota headers on `res`. */
  async admit(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    ip: string | undefined,
  ): Promise<void> {
    const { options } = this;
    // One string even when repeated: Node joins a repeated custom header with ", ".
    const presented = req.headers[KEY_HEADER_LOWER] as string | undefined;
    const ipSubject = `ip:${ip ?? 'unknown'}`;
    if (presented !== undefined) {
      const key = await this.verify(presented, ipSubject, res);
      await this.charge(`key:${key.id}`, key.quotaPerMinute ?? options.keyQuotaPerMinute, res);
      return;
    }
    if (options.protectedPaths.some((prefix) => path.startsWith(prefix))) {
      throw new ApiError(401, 'api_key_required', `this endpoint needs an ${KEY_HEADER} header`);
    }
    await this.charge(ipSubject, options.publicQuotaPerMinute, res);
  }

  /** The presented key's owner; a wrong key is charged to the IP, then refused (401 or 429). */
  private async verify(presented: string, ipSubject: string, res: ServerResponse) {
    const { publicQuotaPerMinute } = this.options;
    const invalidSubject = `invalid-key:${ipSubject}`;
    const known = this.keys.known(presented);
    if (known === undefined) await this.refuseIfSpent(invalidSubject, publicQuotaPerMinute, res);
    const key = await (known ?? this.keys.lookup(presented));
    if (key) return key;
    await Promise.all([
      this.count(invalidSubject),
      this.charge(ipSubject, publicQuotaPerMinute, res),
    ]);
    throw invalidKey();
  }

  /** 429 when `subject` has no request left in this window (Redis down: no check). */
  private async refuseIfSpent(subject: string, limit: number, res: ServerResponse): Promise<void> {
    const decision = await this.ask(() => this.options.limiter.peek(subject, limit));
    if (!decision || decision.allowed) return;
    setQuotaHeaders(res, decision);
    throw rateLimited(res, decision);
  }

  /** Counts one request of `subject`, with no quota to enforce. */
  private async count(subject: string): Promise<void> {
    await this.ask(() => this.options.limiter.hit(subject, Number.MAX_SAFE_INTEGER));
  }

  /** Counts one request against `subject`'s quota; throws the 429 when it is over. */
  private async charge(subject: string, limit: number, res: ServerResponse): Promise<void> {
    const decision = await this.ask(() => this.options.limiter.hit(subject, limit));
    if (!decision) return;
    setQuotaHeaders(res, decision);
    if (!decision.allowed) throw rateLimited(res, decision);
  }

  /** The limiter's decision; undefined when Redis could not answer (warned: requests go on). */
  private async ask(decide: () => Promise<RateDecision>): Promise<RateDecision | undefined> {
    try {
      return await decide();
    } catch (error) {
      this.warn(error);
      return undefined;
    }
  }
}

/** `AccessControl` as an Express middleware. */
export function access(control: AccessControl): RequestHandler {
  return async (req, res, next) => {
    await control.admit(req, res, req.path, req.ip);
    next();
  };
}
