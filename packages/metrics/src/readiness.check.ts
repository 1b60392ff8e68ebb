/** A dependency check: resolves when the dependency answers, rejects otherwise. */
export type DependencyCheck = () => Promise<unknown>;

export type CheckState = 'up' | 'down';

/** Runs one check with a deadline; a dependency slower than `timeoutMs` counts as down. */
export async function probe(check: DependencyCheck, timeoutMs: number): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('timed out')), timeoutMs);
  });
  try {
    await Promise.race([Promise.resolve().then(check), timeout]);
    return 'up';
  } catch {
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** All checks at once; ready only when every one is up. */
export async function readiness(
  checks: Record<string, DependencyCheck>,
  timeoutMs = 1_000,
): Promise<{ ready: boolean; checks: Record<string, CheckState> }> {
  const entries = await Promise.all(
    Object.entries(checks).map(
      async ([name, check]) => [name, await probe(check, timeoutMs)] as const,
    ),
  );
  return {
    ready: entries.every(([, state]) => state === 'up'),
    checks: Object.fromEntries(entries),
  };
}
