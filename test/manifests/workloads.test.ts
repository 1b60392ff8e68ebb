// The Kubernetes workloads of every kustomization (rendered offline with `kubectl kustomize`):
// valid for the Kubernetes API models, one image with compose's commands, the variables the
// services read, probes on the ports they serve, replicas, disruption budgets, secrets, and the
// release image production pins.
import { createServer, type RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createApp } from '@marquee/api';
import type { SearchCache } from '@marquee/cache';
import { parseEnv } from '@marquee/config';
import { createDashboardApp } from '@marquee/dashboard';
import type { EventRepository } from '@marquee/db';
import { createLogger } from '@marquee/logger';
import { createMetricsRegistry, startOpsServer } from '@marquee/metrics';
import { ProviderStatusReader } from '@marquee/provider-status';
import { IngestQueue } from '@marquee/queue';
import { workerEnvSchema } from '@marquee/worker';
import {
  API_PORT,
  apiContainer,
  APP_SERVICES,
  argv,
  BASE_ENV,
  byKind,
  COMMANDS,
  composeFile,
  containerEnv,
  containerPort,
  deployment,
  ENV_SCHEMAS,
  environmentOf,
  IMAGE,
  knownEnv,
  listeningPort,
  literalEnv,
  mebibytes,
  RELEASE_VERSION,
  render,
  renderedBeforeAll,
  RENDERS,
  ROOT,
  schemaKeys,
  SECRET_NAME,
  SERVICE_ONLY_ENV,
  services,
  validationErrors,
  workerHeapCapMib,
  workloads,
  type AppService,
  type K8sObject,
} from './manifests.helpers.ts';

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
describe.each(RENDERS)('kustomize %s', (dir, expected) => {
  const objects = renderedBeforeAll(dir);

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
      'PodMonitor/marquee',
      'PrometheusRule/marquee',
      'ScaledObject/marquee-worker',
      'Service/marquee-api',
      'Service/marquee-dashboard',
      'TriggerAuthentication/marquee-redis',
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
      expect({ service, image: container.image }).toEqual({
        service,
        image: `${IMAGE}:${expected.tag}`,
      });
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
    const env = literalEnv(container);
    const cap = workerHeapCapMib(env.NODE_OPTIONS);
    expect(cap).toBe(workerHeapCapMib(environmentOf(services(composeFile).worker!).NODE_OPTIONS));
    expect(env.MALLOC_MMAP_THRESHOLD_).toBe(
      environmentOf(services(composeFile).worker!).MALLOC_MMAP_THRESHOLD_,
    );
    // Payload bodies live outside the V8 heap, and so does Node's own memory: ~150 MB idle,
    // ~200 MB with an ingest's native buffers (measured for issue 7). A limit below the total
    // gets the pod killed for memory the heap cap cannot bound. The payloads a process holds at
    // once are bounded by its budget (WORKER_MAX_INFLIGHT_MB, packages/fetch/src/payload.budget.ts:
    // a body reserves its bytes before it is read), except that one payload larger than the
    // budget runs alone; each is at most FETCH_MAX_BYTES. robots.txt bodies (500 KiB at most,
    // one per sync at a time) are read outside the budget.
    const { WORKER_CONCURRENCY, FETCH_MAX_BYTES, WORKER_MAX_INFLIGHT_MB } = parseEnv(
      workerEnvSchema,
      env,
    );
    const payloadMib = Math.min(
      (WORKER_CONCURRENCY * FETCH_MAX_BYTES) / 2 ** 20,
      Math.max(WORKER_MAX_INFLIGHT_MB, FETCH_MAX_BYTES / 2 ** 20),
    );
    const robotsMib = WORKER_CONCURRENCY * 0.5;
    const needed = cap + 200 + payloadMib + robotsMib;
    expect(mebibytes(container.resources?.limits?.memory)).toBeGreaterThanOrEqual(needed);
  });

  it("terminationGracePeriodSeconds outlasts the worker's own shutdown deadline", () => {
    const worker = deployment(objects, 'marquee-worker');
    const container = worker.spec!.template.spec!.containers[0]!;
    const env = literalEnv(container);
    // The value the worker will use: the manifest's, else its schema's default.
    const { SHUTDOWN_TIMEOUT_MS } = parseEnv(workerEnvSchema, env);
    const grace = worker.spec?.template.spec?.terminationGracePeriodSeconds ?? 30;
    // Room for closing connections after the deadline, before SIGKILL.
    expect(grace * 1000).toBeGreaterThanOrEqual(SHUTDOWN_TIMEOUT_MS + 10_000);
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
      const env = literalEnv(container);
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

/** Workload images not pinned to a release: tagged `latest`, or untagged (which means latest). */
function unpinnedImages(objects: K8sObject[]): string[] {
  return workloads(objects)
    .map(({ name, container }) => ({ name, image: container.image ?? '' }))
    .filter(({ image }) => {
      if (image.includes('@sha256:')) return false;
      const tag = /:([^:/]+)$/.exec(image)?.[1];
      return tag === undefined || tag === 'latest';
    })
    .map(({ name, image }) => `${name}: ${image}`);
}

describe('the release image', () => {
  it.each(RENDERS.filter(([, expected]) => expected.tag !== 'latest'))(
    '%s pins the release in package.json, never latest nor an untagged image',
    async (dir) => {
      const objects = await render(dir);
      expect(unpinnedImages(objects)).toEqual([]);
      expect(new Set(workloads(objects).map(({ container }) => container.image))).toEqual(
        new Set([`${IMAGE}:${RELEASE_VERSION}`]),
      );
    },
  );

  it('the check refuses latest (k8s/base, a development render) and untagged images', async () => {
    const base = await render('k8s/base');
    expect(unpinnedImages(base)).toHaveLength(APP_SERVICES.length);
    const production = structuredClone(await render('k8s/overlays/production'));
    const [first] = workloads(production);
    first!.container.image = IMAGE;
    expect(unpinnedImages(production)).toEqual([`${first!.name}: ${IMAGE}`]);
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
      webhooks: { list: () => Promise.resolve([]) },
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
    for (const [dir] of RENDERS) {
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
