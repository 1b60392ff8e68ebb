import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { ApiKeyInfo } from '@marquee/db';
import type { Logger } from '@marquee/logger';
import type { RateLimiter } from './rate.limiter.ts';
import { ApiError } from './response.envelope.ts';

export interface KeyVerifier {
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

/** Remembers key lookups briefly so a request costs no database query; revocation lags by `ttlMs`. */
function cachedVerifier(keys: KeyVerifier, ttlMs: number): KeyVerifier {
  const entries = new Map<string, { at: number; info: Promise<ApiKeyInfo | null> }>();
  return {
    verify(key) {
      const now = Date.now();
      const entry = entries.get(key);
      if (entry && now - entry.at < ttlMs) return entry.info;
      // Bounded: drop the oldest entry (Map keeps insertion order).
      if (entries.size >= KEY_CACHE_SIZE) entries.delete(entries.keys().next().value!);
      const info = keys.verify(key);
      entries.set(key, { at: now, info });
      // A failed lookup is not remembered: the next request tries again.
      info.catch(() => entries.delete(key));
      return info;
    },
  };
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

/**
 * API keys and quotas. A key (X-API-Key) identifies the caller and its quota; without one the
 * caller's IP gets the public quota. A wrong key is refused even where none is needed, so a
 * client notices a revoked key. Quotas live in Redis; when Redis fails the request goes through.
 * Shared by the Express middleware and the fast path, so both admit exactly the same requests.
 */
export class AccessControl {
  private readonly keys: KeyVerifier;
  private readonly warn: (error: unknown) => void;

  constructor(private readonly options: AccessOptions) {
    this.keys = cachedVerifier(options.keys, options.keyCacheMs ?? 30_000);
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
    let key: ApiKeyInfo | null = null;
    if (presented !== undefined) {
      key = await this.keys.verify(presented);
      if (!key) throw new ApiError(401, 'invalid_api_key', 'unknown or revoked API key');
    } else if (options.protectedPaths.some((prefix) => path.startsWith(prefix))) {
      throw new ApiError(401, 'api_key_required', `this endpoint needs an ${KEY_HEADER} header`);
    }

    const subject = key ? `key:${key.id}` : `ip:${ip ?? 'unknown'}`;
    const limit = key
      ? (key.quotaPerMinute ?? options.keyQuotaPerMinute)
      : options.publicQuotaPerMinute;
    let decision;
    try {
      decision = await options.limiter.hit(subject, limit);
    } catch (error) {
      this.warn(error);
      return;
    }
    res.setHeader('RateLimit-Limit', String(decision.limit));
    res.setHeader('RateLimit-Remaining', String(decision.remaining));
    res.setHeader('RateLimit-Reset', String(Math.ceil(decision.resetMs / 1000)));
    if (!decision.allowed) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil(decision.resetMs / 1000))));
      throw new ApiError(
        429,
        'rate_limited',
        `over the quota of ${decision.limit} requests per minute`,
      );
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
