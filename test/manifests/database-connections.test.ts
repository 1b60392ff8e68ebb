// PostgreSQL connections of every kustomization at its most: each workload's replicas (autoscaler
// maxima, plus the extra pods a rollout surges) times the connections one process opens, against
// the max_connections k8s/README.md tells operators to set.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import { API_DB_POOL_MAX, apiEnvSchema } from '@marquee/api';
import { parseEnv } from '@marquee/config';
import { DASHBOARD_DB_POOL_MAX } from '@marquee/dashboard';
import { SCHEDULER_DB_POOL_MAX } from '@marquee/scheduler';
import { workerDbPoolMax, workerEnvSchema } from '@marquee/worker';
import {
  APP_SERVICES,
  byKind,
  deployment,
  literalEnv,
  renderedBeforeAll,
  RENDERS,
  ROOT,
  scaledObject,
  type AppService,
  type K8sObject,
} from './manifests.helpers.ts';

/** The figure operators are told to set (k8s/README.md, "PostgreSQL connections"). */
const DOCUMENTED_MAX_CONNECTIONS = Number(
  /^max_connections = (\d+)$/m.exec(readFileSync(join(ROOT, 'k8s', 'README.md'), 'utf8'))?.[1],
);
/** PostgreSQL's superuser_reserved_connections (3) and a few sessions of operators and backups. */
const OUTSIDE_MARQUEE = 10;

/** Pods of a Deployment at `replicas` during a rollout: Recreate adds none, RollingUpdate its surge. */
function duringRollout(object: IDeployment, replicas: number): number {
  const strategy = object.spec?.strategy;
  if (strategy?.type === 'Recreate') return replicas;
  // Kubernetes' default surge is 25 %, rounded up.
  const surge = strategy?.rollingUpdate?.maxSurge ?? '25%';
  const percent = /^(\d+)%$/.exec(String(surge))?.[1];
  return (
    replicas +
    (percent === undefined ? Number(surge) : Math.ceil((replicas * Number(percent)) / 100))
  );
}

interface Usage {
  pods: number;
  perPod: number;
}

/** Each service's pods at their most and the connections one of them opens. */
function usage(objects: K8sObject[], workerPool?: number): Record<AppService, Usage> {
  const worker = deployment(objects, 'marquee-worker');
  const workerEnv = parseEnv(
    workerEnvSchema,
    literalEnv(worker.spec!.template.spec!.containers[0]!),
  );
  // KEDA's default maximum is 100.
  const workers = scaledObject(objects).spec.maxReplicaCount ?? 100;
  const api = deployment(objects, 'marquee-api');
  const [hpa] = byKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
  const scheduler = deployment(objects, 'marquee-scheduler');
  const dashboard = deployment(objects, 'marquee-dashboard');
  const [migrate] = byKind<IJob>(objects, 'Job');
  return {
    worker: {
      pods: duringRollout(worker, workers),
      perPod: workerPool ?? workerDbPoolMax(workerEnv),
    },
    // Each of a pod's API_WORKERS processes has a pool of its own.
    api: {
      pods: duringRollout(api, hpa!.spec.maxReplicas),
      perPod:
        API_DB_POOL_MAX *
        apiEnvSchema.in.shape.API_WORKERS.parse(
          literalEnv(api.spec!.template.spec!.containers[0]!).API_WORKERS,
        ),
    },
    // Its pool and its LISTEN connection.
    scheduler: {
      pods: duringRollout(scheduler, scheduler.spec?.replicas ?? 1),
      perPod: SCHEDULER_DB_POOL_MAX + 1,
    },
    dashboard: {
      pods: duringRollout(dashboard, dashboard.spec?.replicas ?? 1),
      perPod: DASHBOARD_DB_POOL_MAX,
    },
    // The migration runner holds one client at a time.
    migrate: { pods: migrate?.spec?.parallelism ?? 1, perPod: 1 },
  };
}

const total = (counts: Record<AppService, Usage>) =>
  Object.values(counts).reduce((sum, { pods, perPod }) => sum + pods * perPod, 0);

describe.each(RENDERS)('PostgreSQL connections of %s', (dir, expected) => {
  const objects = renderedBeforeAll(dir);

  it('every service at its most, rollouts included, fits the documented max_connections', () => {
    expect(DOCUMENTED_MAX_CONNECTIONS).toBeGreaterThan(100);
    const counts = usage(objects);
    expect(Object.keys(counts).sort()).toEqual([...APP_SERVICES].sort());
    expect(total(counts) + OUTSIDE_MARQUEE).toBeLessThanOrEqual(DOCUMENTED_MAX_CONNECTIONS);
  });

  it("the worker's pool stops growing with its concurrency at 10 (WORKER_CONCURRENCY + 2 did not)", () => {
    const counts = usage(objects);
    expect(counts.worker.perPod).toBe(Math.min(expected.workerConcurrency + 2, 10));
    // WORKER_CONCURRENCY + 2 at every concurrency would not fit production's 64.
    const uncapped = usage(objects, expected.workerConcurrency + 2);
    expect(total(uncapped) + OUTSIDE_MARQUEE > DOCUMENTED_MAX_CONNECTIONS).toBe(
      expected.workerConcurrency === 64,
    );
  });
});
