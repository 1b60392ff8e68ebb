import { eventually, startTs, type LongRunning } from './process.runner.ts';

export type ServiceName = 'api' | 'worker' | 'scheduler' | 'dashboard';

/** A service's entry point (services/<name>/src/main.ts, what its image runs) as its own process. */
export function startService(service: ServiceName, env: NodeJS.ProcessEnv): LongRunning {
  return startTs(`services/${service}/src/main.ts`, env);
}

/** Polls the api at `url` until /readyz answers `status`. */
export async function untilReadyz(url: string, status = 200, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => ((await fetch(`${url}/readyz`)).status === status ? true : undefined),
    timeoutMs,
    `${url}/readyz to answer ${status}`,
  );
}
