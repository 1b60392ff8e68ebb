import type { Redis } from 'ioredis';
import { FetchError, type FetchedPayload, type FetchOptions } from './http.fetcher.ts';
import { robotsAllows, userAgentToken } from './robots.policy.ts';

export interface RobotsGuardOptions {
  /** FETCH_USER_AGENT; its product token selects our robots.txt group. */
  userAgent: string;
  /** How long a host's robots.txt is reused (every worker reads the same copy). */
  ttlSeconds: number;
}

/** How much of a robots.txt is read and kept: RFC 9309 (2.5) asks crawlers for at least 500 KiB. */
const ROBOTS_MAX_BYTES = 500 * 1024;

/** Fetches a robots.txt within `limit` (what the guard asks: the first ROBOTS_MAX_BYTES). */
type FetchRobots = (
  url: string,
  limit: Required<Pick<FetchOptions, 'maxBytes' | 'overflow'>>,
) => Promise<FetchedPayload>;

/**
 * The rules of a robots.txt, read no further than ROBOTS_MAX_BYTES. A longer one is cut after its
 * last whole line within the limit: a line cut short could turn `Allow: /events/free` into
 * `Allow: /ev`. What comes after the limit is ignored, as RFC 9309 allows.
 */
function robotsText(body: Buffer): string {
  if (body.length <= ROBOTS_MAX_BYTES) return body.toString('utf8');
  const head = body.subarray(0, ROBOTS_MAX_BYTES);
  return head.subarray(0, head.lastIndexOf(0x0a) + 1).toString('utf8');
}

// Stored instead of the text when the host has no robots.txt (4xx): nothing is disallowed.
const ALLOW_ALL = '';

/**
 * robots.txt for HTML providers: fetched once per origin and cached in Redis
 * (`<prefix>:robots:<origin>`) for `ttlSeconds`. A 4xx robots.txt (none) allows everything; a
 * 5xx or network failure is transient (the sync retries), never read as permission.
 */
export class RobotsGuard {
  private readonly token: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly fetchRobots: FetchRobots,
    private readonly options: RobotsGuardOptions,
  ) {
    this.token = userAgentToken(options.userAgent);
  }

  /** Throws a permanent FetchError when robots.txt disallows `url` for us. */
  async assertAllowed(url: string): Promise<void> {
    const target = new URL(url);
    const text = await this.robotsOf(target.origin);
    const path = `${target.pathname}${target.search}`;
    if (!robotsAllows(text, target.href, this.token)) {
      throw new FetchError(
        `robots.txt of ${target.origin} disallows ${path} for user agent "${this.token}"`,
        'permanent',
      );
    }
  }

  private async robotsOf(origin: string): Promise<string> {
    const key = `${this.prefix}:robots:${origin}`;
    const cached = await this.redis.get(key);
    if (cached !== null) return cached;
    let text: string;
    try {
      const page = await this.fetchRobots(`${origin}/robots.txt`, {
        maxBytes: ROBOTS_MAX_BYTES + 1,
        overflow: 'truncate',
      });
      text = robotsText(page.body);
    } catch (error) {
      const status = error instanceof FetchError ? error.status : undefined;
      if (status !== undefined && status >= 400 && status < 500 && status !== 429) {
        text = ALLOW_ALL;
      } else if (error instanceof FetchError) {
        throw new FetchError(`robots.txt of ${origin}: ${error.message}`, error.classification, {
          status,
          retryAfterMs: error.retryAfterMs,
          cause: error,
        });
      } else {
        throw error;
      }
    }
    await this.redis.set(key, text, 'EX', this.options.ttlSeconds);
    return text;
  }
}
