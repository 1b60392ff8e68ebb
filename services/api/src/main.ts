import cluster from 'node:cluster';
import { parseEnv } from '@marquee/config';
import { createLogger } from '@marquee/logger';
import { runApiServer } from './api.server.ts';
import { superviseWorkers } from './cluster.primary.ts';
import { apiEnvSchema } from './env.schema.ts';

const env = parseEnv(apiEnvSchema);
// API_WORKERS > 1: this process only forks and supervises; each worker runs the whole server.
if (env.API_WORKERS > 1 && cluster.isPrimary) {
  superviseWorkers(env.API_WORKERS, createLogger({ service: 'api', level: env.LOG_LEVEL }));
} else {
  runApiServer(env);
}
