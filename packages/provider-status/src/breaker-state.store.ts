import type { Redis } from 'ioredis';
import type { BreakerState, BreakerStatus } from '@marquee/fetch';

export type { BreakerState, BreakerStatus };

/** Hash per provider under the queue prefix, e.g. `marquee:breaker:<provider id>`. */
export function breakerKey(prefix: string, providerId: string): string {
  return `${prefix}:breaker:${providerId}`;
}

/** Entries expire so removed providers leave nothing behind; every report renews it. */
const TTL_SECONDS = 7 * 24 * 3600;

export async function writeBreakerStatus(
  redis: Redis,
  prefix: string,
  providerId: string,
  status: BreakerStatus,
): Promise<void> {
  const key = breakerKey(prefix, providerId);
  const fields: Record<string, string> = {
    state: status.state,
    reportedBy: status.reportedBy,
    updatedAt: status.updatedAt,
  };
  if (status.lastError !== undefined) fields.lastError = status.lastError;
  if (status.lastErrorAt !== undefined) fields.lastErrorAt = status.lastErrorAt;
  // probeAt only means something while open: a stale one must not survive a close.
  const multi = redis.multi().hset(key, fields);
  if (status.probeAt !== undefined) multi.hset(key, 'probeAt', status.probeAt);
  else multi.hdel(key, 'probeAt');
  await multi.expire(key, TTL_SECONDS).exec();
}

const STATES: ReadonlySet<string> = new Set(['closed', 'open', 'halfOpen']);

/**
 * Breaker status of each given provider (by id); providers no worker has reported on are absent.
 * The read side of ProviderStatusReader (CLI, API and dashboard).
 */
export async function readBreakerStatuses(
  redis: Redis,
  prefix: string,
  providerIds: readonly string[],
): Promise<Map<string, BreakerStatus>> {
  const statuses = new Map<string, BreakerStatus>();
  if (providerIds.length === 0) return statuses;
  const pipeline = redis.pipeline();
  for (const id of providerIds) pipeline.hgetall(breakerKey(prefix, id));
  const replies = (await pipeline.exec()) ?? [];
  providerIds.forEach((id, index) => {
    const [error, value] = replies[index] ?? [null, null];
    if (error) throw error;
    const hash = (value ?? {}) as Record<string, string>;
    if (!hash.state || !STATES.has(hash.state)) return;
    statuses.set(id, {
      state: hash.state as BreakerState,
      ...(hash.lastError !== undefined && { lastError: hash.lastError }),
      ...(hash.lastErrorAt !== undefined && { lastErrorAt: hash.lastErrorAt }),
      ...(hash.probeAt !== undefined && { probeAt: hash.probeAt }),
      reportedBy: hash.reportedBy ?? '?',
      updatedAt: hash.updatedAt ?? '',
    });
  });
  return statuses;
}
