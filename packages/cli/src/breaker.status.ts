import { readBreakerStatuses, type BreakerStatus } from '@marquee/provider-status';
import type { CliContext } from './cli.context.ts';

const READ_TIMEOUT_MS = 2_000;

/**
 * Breaker status per provider id for `providers list`; undefined when Redis cannot be read in
 * time (the listing still works from Postgres alone).
 */
export async function loadBreakerStatuses(
  ctx: CliContext,
  providerIds: readonly string[],
): Promise<Map<string, BreakerStatus> | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), READ_TIMEOUT_MS);
  });
  try {
    return await Promise.race([
      readBreakerStatuses(ctx.redis, ctx.env.QUEUE_PREFIX, providerIds),
      timeout,
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

/** The BREAKER column: state, and the last error while not closed. */
export function describeBreaker(status: BreakerStatus | undefined, known: boolean): string {
  if (!known) return '?';
  if (!status) return 'closed';
  if (status.state === 'closed') return 'closed';
  const probe = status.probeAt ? ` until ${status.probeAt}` : '';
  return `${status.state}${probe}${status.lastError ? `: ${status.lastError}` : ''}`;
}
