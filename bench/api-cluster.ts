// Runs N API processes (services/api/src/main.ts, unchanged) behind one port with node:cluster.
// Usage: API_PROCESSES=2 node --import tsx bench/api-cluster.ts (the api's usual environment).
import cluster from 'node:cluster';
import { join } from 'node:path';
import { REPO_ROOT } from '@marquee/testing';

const processes = Number(process.env.API_PROCESSES ?? '2');
cluster.setupPrimary({
  exec: join(REPO_ROOT, 'services/api/src/main.ts'),
  execArgv: ['--import', 'tsx'],
});
for (let index = 0; index < processes; index += 1) cluster.fork();
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
  });
}
cluster.on('exit', () => {
  if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(0);
});
