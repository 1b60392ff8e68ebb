import { eventually, startTs, type LongRunning } from './process.runner.ts';
import { workerProcessEnv } from './worker.harness.ts';

export type ServiceName = 'api' | 'worker' | 'scheduler' | 'dashboard';

/** A service's entry point (services/<name>/src/main.ts, what its image runs) as its own process. */
export function startService(service: ServiceName, env: NodeJS.ProcessEnv): LongRunning {
  return startTs(`services/${service}/src/main.ts`, env);
}

/** A worker process on its own database and queue prefix (workerProcessEnv), `extra` on top. */
export function startWorkerProcess(
  databaseUrl: string,
  prefix: string,
  extra: NodeJS.ProcessEnv = {},
): LongRunning {
  return startService('worker', workerProcessEnv(databaseUrl, prefix, extra));
}

/** Polls the api at `url` until /readyz answers `status`. */
export async function untilReadyz(url: string, status = 200, timeoutMs = 30_000): Promise<void> {
  await eventually(
    async () => ((await fetch(`${url}/readyz`)).status === status ? true : undefined),
    timeoutMs,
    `${url}/readyz to answer ${status}`,
  );
}
