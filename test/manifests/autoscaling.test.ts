// Worker autoscaling (KEDA) in every kustomization: the triggers name the real BullMQ keys and the
// Redis the services use, authenticate from the Secret, and — evaluated as KEDA would against a
// real queue — scale on work that is due, never on the next runs Job Schedulers keep waiting.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { ITriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import type { IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import { Worker, type Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { parseEnv } from '@marquee/config';
import { dashboardEnvSchema } from '@marquee/dashboard';
import {
  createMetricsRegistry,
  QUEUE_DEPTH_METRIC,
  registerQueueDepthGauge,
} from '@marquee/metrics';
import { IngestQueue, QUEUE_NAMES } from '@marquee/queue';
import { schedulerEnvSchema } from '@marquee/scheduler';
import { workerEnvSchema } from '@marquee/worker';
import { eventually, uniquePrefix } from '@marquee/testing';
import {
  byKind,
  configMap,
  deployment,
  literalEnv,
  render,
  renderedBeforeAll,
  RENDERS,
  scaledObject,
  SECRET_NAME,
  type K8sObject,
} from './manifests.helpers.ts';
import { evaluate, parseExposition, type Sample } from './promql.helpers.ts';

type Trigger = IScaledObject['spec']['triggers'][number];

const LIST_TRIGGERS: ReadonlySet<string> = new Set(['redis', 'redis-cluster']);

function listTrigger(scaled: IScaledObject): Trigger {
  const found = scaled.spec.triggers.filter((trigger) => LIST_TRIGGERS.has(trigger.type));
  expect(found).toHaveLength(1);
  return found[0]!;
}

function prometheusTrigger(scaled: IScaledObject): Trigger {
  const found = scaled.spec.triggers.filter((trigger) => trigger.type === 'prometheus');
  expect(found).toHaveLength(1);
  return found[0]!;
}

/** QUEUE_DUE_WINDOW_SECONDS as the scheduler and the dashboard of a render will use it. */
function dueWindows(objects: K8sObject[]): { scheduler: number; dashboard: number } {
  const env = (name: string) =>
    literalEnv(deployment(objects, name).spec!.template.spec!.containers[0]!);
  return {
    scheduler: parseEnv(schedulerEnvSchema, env('marquee-scheduler')).QUEUE_DUE_WINDOW_SECONDS,
    // Its credentials come from the Secret; only the window matters here.
    dashboard: parseEnv(dashboardEnvSchema, {
      DASHBOARD_PASSWORD: 'not-the-real-password',
      DASHBOARD_TOKEN: 'not-the-real-token',
      ...env('marquee-dashboard'),
    }).QUEUE_DUE_WINDOW_SECONDS,
  };
}

describe.each(RENDERS)('KEDA in %s', (dir, expected) => {
  const objects = renderedBeforeAll(dir);

  it('KEDA scales workers on the real BullMQ waiting list and on work that is due, never below 1', () => {
    const scaled = scaledObject(objects);
    expect(scaled.spec.scaleTargetRef).toMatchObject({ name: 'marquee-worker' });
    expect(deployment(objects, scaled.spec.scaleTargetRef.name)).toBeDefined();
    expect(scaled.spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    const config = configMap(objects);
    expect(config.QUEUE_PREFIX).toBe(expected.prefix);
    const redisUrl = new URL(config.REDIS_URL!);
    const list = listTrigger(scaled);
    expect(list.type).toBe(expected.listTrigger);
    // BullMQ's key of the waiting list: "<prefix>:<queue>:wait" (test/redis-cluster.test.ts
    // checks it on a real Redis).
    expect(list.metadata.listName).toBe(`${config.QUEUE_PREFIX}:${QUEUE_NAMES.ingest}:wait`);
    expect(Number(list.metadata.listLength)).toBeGreaterThan(0);
    // The Redis the services use, named so that KEDA's own namespace resolves it.
    const address =
      list.type === 'redis-cluster'
        ? list.metadata.addresses!.split(',')[0]!.trim()
        : list.metadata.address!;
    const [host, redisPort] = address.split(':');
    const shortHost = redisUrl.hostname.includes('.')
      ? redisUrl.hostname
      : `${redisUrl.hostname}.marquee.svc.cluster.local`;
    expect(host).toBe(shortHost);
    expect(redisPort).toBe(redisUrl.port || '6379');
    // A cluster has database 0 only, which the services must use too.
    expect(list.metadata.databaseIndex ?? '0').toBe(redisUrl.pathname.slice(1) || '0');
    // Prioritized and due delayed jobs are in sorted sets: a second trigger counts them, with the
    // jobs in progress; never every delayed job (each Job Scheduler's next run is one).
    const depth = prometheusTrigger(scaled);
    expect(depth.metadata.query).toContain(QUEUE_DEPTH_METRIC);
    expect(depth.metadata.query).toMatch(/state=~"[^"]*\bdue\b/);
    expect(depth.metadata.query).toMatch(/state=~"[^"]*\bwaiting\b/);
    expect(depth.metadata.query).not.toMatch(/\bdelayed\b/);
    expect(Number(depth.metadata.threshold)).toBeGreaterThan(0);
  });

  it("each trigger's target is the jobs one replica runs at once: the worker's WORKER_CONCURRENCY", () => {
    const scaled = scaledObject(objects);
    const worker = deployment(objects, scaled.spec.scaleTargetRef.name);
    const { WORKER_CONCURRENCY } = parseEnv(
      workerEnvSchema,
      literalEnv(worker.spec!.template.spec!.containers[0]!),
    );
    expect(WORKER_CONCURRENCY).toBe(expected.workerConcurrency);
    expect({
      listLength: Number(listTrigger(scaled).metadata.listLength),
      threshold: Number(prometheusTrigger(scaled).metadata.threshold),
    }).toEqual({ listLength: WORKER_CONCURRENCY, threshold: WORKER_CONCURRENCY });
  });

  it('the Redis trigger takes its password from the Secret, through a TriggerAuthentication', () => {
    const list = listTrigger(scaledObject(objects));
    expect(list.metadata).not.toHaveProperty('password');
    expect(list.metadata).not.toHaveProperty('passwordFromEnv');
    const name = list.authenticationRef?.name;
    const auth = byKind<ITriggerAuthentication>(objects, 'TriggerAuthentication').find(
      (candidate) => candidate.metadata.name === name,
    );
    expect(auth?.spec.secretTargetRef).toEqual([
      { parameter: 'password', name: SECRET_NAME, key: 'REDIS_PASSWORD' },
    ]);
  });

  it("the due window spans KEDA's polling interval and one scrape, and no more", () => {
    const scaled = scaledObject(objects);
    const [monitor] = byKind<IPodMonitor>(objects, 'PodMonitor');
    const scrapeSeconds = Math.max(
      ...(monitor?.spec.podMetricsEndpoints ?? []).map((endpoint) =>
        Number(/^(\d+)s$/.exec(String(endpoint.interval))?.[1]),
      ),
    );
    expect(scrapeSeconds).toBeGreaterThan(0);
    // What KEDA reads was sampled up to one scrape ago and serves until its next poll.
    const needed = (scaled.spec.pollingInterval ?? 30) + scrapeSeconds;
    for (const [service, window] of Object.entries(dueWindows(objects))) {
      expect({ service, window }).toEqual({ service, window: expect.any(Number) });
      expect(window).toBeGreaterThanOrEqual(needed);
      // Wider, and runs due later (Job Schedulers' next ones among them) would count as work now.
      expect(window).toBeLessThanOrEqual(2 * needed);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The triggers, evaluated as KEDA evaluates them, against a real queue

const REDIS_URL = 'redis://127.0.0.1:6379/0';
const SCHEDULERS = 100;
const prefix = uniquePrefix('autoscaling');
const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
const ingest = new IngestQueue({ connection: redis, prefix });
const queue: Queue = ingest.queue;

/**
 * What Prometheus holds after scraping the two exporters of the queue-depth gauge (scheduler and
 * dashboard), each with its render's due window, and the target labels a PodMonitor adds.
 */
async function scrapedSamples(objects: K8sObject[]): Promise<Sample[]> {
  const samples: Sample[] = [];
  for (const [service, window] of Object.entries(dueWindows(objects))) {
    const registry = createMetricsRegistry(service);
    registerQueueDepthGauge(registry, [queue], { dueWindowSeconds: window });
    const target = {
      job: 'marquee/marquee',
      namespace: 'marquee',
      pod: `marquee-${service}-7d9f8c6b5-x2x4q`,
      instance: '10.0.0.1:9102',
    };
    samples.push(...parseExposition(await registry.metrics(), target));
  }
  return samples;
}

/** One trigger's metric as KEDA reads it: the list's length, or the query's single value. */
async function triggerValue(trigger: Trigger, samples: Sample[], configuredPrefix: string) {
  if (LIST_TRIGGERS.has(trigger.type)) {
    const listName = trigger.metadata.listName!;
    expect(listName.startsWith(`${configuredPrefix}:`)).toBe(true);
    return redis.llen(`${prefix}${listName.slice(configuredPrefix.length)}`);
  }
  const result = evaluate(trigger.metadata.query!, samples);
  // KEDA refuses a query answering more than one series; none is 0 with ignoreNullValues.
  expect(result.length).toBeLessThanOrEqual(1);
  if (result.length === 0) {
    expect(trigger.metadata.ignoreNullValues).toBe('true');
    return 0;
  }
  return result[0]!.value;
}

/**
 * KEDA's answer: per trigger ceil(value / target) (the HPA's AverageValue rule), the largest wins,
 * within minReplicaCount and maxReplicaCount.
 */
async function desiredReplicas(objects: K8sObject[]) {
  const scaled = scaledObject(objects);
  const samples = await scrapedSamples(objects);
  const configuredPrefix = configMap(objects).QUEUE_PREFIX!;
  const values: Record<string, number> = {};
  let wanted = 0;
  for (const trigger of scaled.spec.triggers) {
    const value = await triggerValue(trigger, samples, configuredPrefix);
    const target = Number(trigger.metadata.listLength ?? trigger.metadata.threshold);
    values[trigger.type] = value;
    wanted = Math.max(wanted, Math.ceil(value / target));
  }
  const { minReplicaCount = 0, maxReplicaCount = 100 } = scaled.spec;
  return {
    values,
    replicas: Math.min(maxReplicaCount, Math.max(minReplicaCount, wanted)),
    minReplicaCount,
  };
}

const renders = new Map<string, K8sObject[]>();
const workers: Worker[] = [];

beforeAll(async () => {
  for (const [dir] of RENDERS) renders.set(dir, await render(dir));
  // The scheduler's own upsert, once per provider; each Job Scheduler's first run is due at once.
  for (let index = 0; index < SCHEDULERS; index += 1) {
    await ingest.upsertSchedule({ id: randomUUID(), name: `p${index}`, everySeconds: 3600 });
  }
  // A worker runs those first runs, as in production; each scheduler then keeps its next run,
  // an hour away, in the delayed set: the idle steady state.
  const worker = new Worker(QUEUE_NAMES.ingest, () => Promise.resolve(), {
    connection: redis,
    prefix,
    concurrency: 50,
  });
  workers.push(worker);
  await eventually(
    async () => ((await queue.getCompletedCount()) === SCHEDULERS ? true : undefined),
    30_000,
    'the schedulers’ first runs completed',
  );
  await worker.close();
}, 60_000);

afterAll(async () => {
  await Promise.all(workers.map((worker) => worker.close(true)));
  await queue.obliterate({ force: true });
  await ingest.close();
  await redis.quit();
});

/** The query KEDA used before: all delayed jobs. Kept to show the evaluation tells them apart. */
const DELAYED_QUERY = `sum(max by (state) (${QUEUE_DEPTH_METRIC}{queue="ingest",state=~"waiting|prioritized|delayed"}))`;

describe('the KEDA triggers against a real queue', () => {
  it(`${SCHEDULERS} idle Job Schedulers: no replica beyond the minimum, in every render`, async () => {
    expect(await queue.getJobSchedulersCount()).toBe(SCHEDULERS);
    expect(await queue.getJobCounts('waiting', 'active', 'delayed')).toEqual({
      waiting: 0,
      active: 0,
      delayed: SCHEDULERS,
    });
    for (const [dir] of RENDERS) {
      const objects = renders.get(dir)!;
      const desired = await desiredReplicas(objects);
      expect({ dir, ...desired }).toEqual({
        dir,
        values: { [listTrigger(scaledObject(objects)).type]: 0, prometheus: 0 },
        replicas: desired.minReplicaCount,
        minReplicaCount: 1,
      });
      // The evaluation sees the schedulers' runs: counting delayed jobs would scale on them.
      const samples = await scrapedSamples(objects);
      expect(evaluate(DELAYED_QUERY, samples)[0]?.value).toBe(SCHEDULERS);
    }
  });

  it('due work: ceil(work / target) per trigger, the larger wins, within min and max', async () => {
    // Two syncs in progress, held by a worker until the end of the test.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const busy = new Worker(QUEUE_NAMES.ingest, () => held, {
      connection: redis,
      prefix,
      concurrency: 2,
    });
    workers.push(busy);
    const sync = (options = {}) =>
      ingest.enqueueSync({ providerId: randomUUID(), trigger: 'manual' }, options);
    try {
      await sync();
      await sync();
      await eventually(
        async () => ((await queue.getActiveCount()) === 2 ? true : undefined),
        10_000,
        'two active syncs',
      );
      for (let index = 0; index < 10; index += 1) await sync();
      for (let index = 0; index < 3; index += 1) await sync({ priority: 5 });
      // Retries about to run (inside the 30 s window), and one for later (outside it).
      await sync({ delay: 20_000 });
      await sync({ delay: 20_000 });
      await sync({ delay: 3_600_000 });
      // waiting 10 + prioritized 3 + active 2 + due 2 = 17; the waiting list alone holds 10.
      const replicas: Record<string, unknown> = {};
      for (const [dir] of RENDERS) replicas[dir] = await desiredReplicas(renders.get(dir)!);
      expect(replicas).toEqual({
        // listLength and threshold 4: max(ceil(10 / 4), ceil(17 / 4)) = 5.
        'k8s/base': { values: { redis: 10, prometheus: 17 }, replicas: 5, minReplicaCount: 1 },
        // 64 per replica: max(ceil(10 / 64), ceil(17 / 64)) = 1.
        'k8s/overlays/production': {
          values: { redis: 10, prometheus: 17 },
          replicas: 1,
          minReplicaCount: 1,
        },
        'k8s/overlays/production-redis-cluster': {
          values: { 'redis-cluster': 10, prometheus: 17 },
          replicas: 1,
          minReplicaCount: 1,
        },
      });
    } finally {
      release();
      await busy.close();
    }
  });
});
