import type { Redis } from 'ioredis';
import { writeBreakerStatus } from '@marquee/provider-status';

/** A worker's report that `providerId`'s breaker opened now on `lastError`, probing in `probeInMs`. */
export function reportOpenBreaker(
  redis: Redis,
  prefix: string,
  providerId: string,
  report: { lastError: string; probeInMs: number; reportedBy: string },
): Promise<void> {
  return writeBreakerStatus(redis, prefix, providerId, {
    state: 'open',
    lastError: report.lastError,
    probeAt: new Date(Date.now() + report.probeInMs).toISOString(),
    reportedBy: report.reportedBy,
    updatedAt: new Date().toISOString(),
  });
}
