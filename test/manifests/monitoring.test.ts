// Monitoring in every kustomization: a PodMonitor (Prometheus Operator) scrapes each service's
// /metrics on the port it serves them, the NetworkPolicies let Prometheus in, and the
// PrometheusRule's alerts parse as PromQL and name only Marquee's metrics (test/metrics.test.ts
// checks those against what the running services export).
import { describe, expect, it } from '@jest/globals';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { INetworkPolicyPeer as NetworkPolicyPeer } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicyPeer';
import type { IPodMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PodMonitor';
import type { IPrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import {
  byKind,
  containerPort,
  deployment,
  listeningPort,
  literalEnv,
  renderedBeforeAll,
  RENDERS,
  workloads,
  type K8sObject,
} from './manifests.helpers.ts';
import { selectedMetrics, syntaxErrors } from './promql.helpers.ts';

/** The alerts issue-level operations rely on, and a metric each must read. */
const REQUIRED_ALERTS: Record<string, readonly string[]> = {
  MarqueeProviderStale: [
    'marquee_provider_last_success_timestamp_seconds',
    'marquee_provider_interval_seconds',
  ],
  MarqueeBreakerOpen: ['marquee_breaker_state'],
  MarqueeQueueBacklog: ['marquee_queue_jobs'],
  MarqueeDeadLettersGrowing: ['marquee_dead_letters_total'],
};

type Rule = NonNullable<NonNullable<IPrometheusRule['spec']['groups']>[number]['rules']>[number];

/** What is wrong with one rule: its PromQL, the metrics it names, its `for`, labels, annotations. */
function ruleProblems(rule: Rule): string[] {
  const name = rule.alert ?? rule.record ?? '(unnamed)';
  const expr = String(rule.expr);
  const problems = syntaxErrors(expr).map((error) => `${name}: does not parse ${error}`);
  for (const metric of selectedMetrics(expr)) {
    if (!metric.startsWith('marquee_')) problems.push(`${name}: not a Marquee metric: ${metric}`);
  }
  if (rule.for !== undefined && !/^(\d+[smhd])+$/.test(String(rule.for))) {
    problems.push(`${name}: for ${String(rule.for)}`);
  }
  if (rule.alert !== undefined) {
    if (!['warning', 'critical'].includes(rule.labels?.severity ?? '')) {
      problems.push(`${name}: severity ${rule.labels?.severity}`);
    }
    if (!rule.annotations?.summary) problems.push(`${name}: no summary`);
  }
  return problems;
}

type LabelSelector = NonNullable<INetworkPolicy['spec']>['podSelector'];

/** Whether a label selector (matchLabels and `In` expressions) selects these labels. */
function selects(selector: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  return (
    Object.entries(selector.matchLabels ?? {}).every(([key, value]) => labels[key] === value) &&
    (selector.matchExpressions ?? []).every((expression) => {
      if (expression.operator !== 'In') throw new Error(`unsupported: ${expression.operator}`);
      return (expression.values ?? []).includes(labels[expression.key] ?? '');
    })
  );
}

/** The pod labels of a Deployment. */
function podLabels(objects: K8sObject[], name: string): Record<string, string> {
  return deployment(objects, name).spec?.template.metadata?.labels ?? {};
}

function rules(objects: K8sObject[]): Rule[] {
  return byKind<IPrometheusRule>(objects, 'PrometheusRule').flatMap((object) =>
    (object.spec.groups ?? []).flatMap((group) => group.rules ?? []),
  );
}

describe.each(RENDERS)('kustomize %s', (dir) => {
  const objects = renderedBeforeAll(dir);

  it('a PodMonitor scrapes /metrics of every service on the port it serves them', () => {
    const monitors = byKind<IPodMonitor>(objects, 'PodMonitor');
    expect(monitors).toHaveLength(1);
    const { selector, podMetricsEndpoints: endpoints = [] } = monitors[0]!.spec;
    for (const endpoint of endpoints) expect(endpoint.path).toBe('/metrics');
    const scraped = new Set<string>();
    for (const { service, kind, name, container } of workloads(objects)) {
      if (kind === 'Job') continue;
      expect({ service, selected: selects(selector, podLabels(objects, name)) }).toEqual({
        service,
        selected: true,
      });
      const ports = endpoints
        .map((endpoint) => containerPort(container, endpoint.port))
        .filter((port) => port !== undefined);
      // Exactly one endpoint matches the pod, on the port the service serves /metrics from.
      expect({ service, ports }).toEqual({
        service,
        ports: [listeningPort(service, literalEnv(container))],
      });
      scraped.add(service);
    }
    expect([...scraped].sort()).toEqual(['api', 'dashboard', 'scheduler', 'worker']);
  });

  it('the NetworkPolicies let the monitoring namespace reach every scraped port', () => {
    const policies = byKind<INetworkPolicy>(objects, 'NetworkPolicy');
    const [monitor] = byKind<IPodMonitor>(objects, 'PodMonitor');
    const portNames = new Set((monitor?.spec.podMetricsEndpoints ?? []).map((e) => e.port));
    for (const { service, kind, name, container } of workloads(objects)) {
      if (kind === 'Job') continue;
      const port = container.ports?.find((candidate) => portNames.has(candidate.name))?.name;
      const fromMonitoring = (peer: NetworkPolicyPeer) =>
        peer.namespaceSelector?.matchLabels?.['kubernetes.io/metadata.name'] === 'monitoring';
      const admitted = policies.some(
        (policy) =>
          selects(policy.spec?.podSelector, podLabels(objects, name)) &&
          (policy.spec?.ingress ?? []).some(
            (rule) =>
              (rule.ports ?? []).some((allowed) => allowed.port === port) &&
              // No `from`: every source, the monitoring namespace included.
              (rule.from === undefined || rule.from.some(fromMonitoring)),
          ),
      );
      expect({ service, port, admitted }).toEqual({ service, port, admitted: true });
    }
  });

  it('the alerts parse, name only Marquee metrics, and cover staleness, breakers, backlog and dead letters', () => {
    const all = rules(objects);
    expect(all.flatMap(ruleProblems)).toEqual([]);
    for (const [alert, metrics] of Object.entries(REQUIRED_ALERTS)) {
      const rule = all.find((candidate) => candidate.alert === alert);
      expect({ alert, metrics: selectedMetrics(String(rule?.expr ?? '')) }).toEqual({
        alert,
        metrics: expect.arrayContaining([...metrics]),
      });
    }
    // Stale is relative to each provider's own interval, three of them.
    expect(String(all.find((rule) => rule.alert === 'MarqueeProviderStale')?.expr)).toMatch(
      /> 3 \* max by \(provider\) \(marquee_provider_interval_seconds\)/,
    );
    expect(all.find((rule) => rule.alert === 'MarqueeBreakerOpen')?.for).toBe('15m');
  });
});

describe('the rule check', () => {
  it('catches an expression that does not parse, a foreign metric and a rule without severity', () => {
    expect(
      ruleProblems({
        alert: 'Broken',
        expr: 'max by (provider (marquee_breaker_state) >= 2',
        labels: { severity: 'warning' },
        annotations: { summary: 's' },
      }),
    ).toEqual([expect.stringMatching(/^Broken: does not parse/)]);
    expect(
      ruleProblems({
        alert: 'Foreign',
        expr: 'up{job="marquee"} == 0',
        for: '5 minutes',
        annotations: { summary: 's' },
      }),
    ).toEqual([
      'Foreign: not a Marquee metric: up',
      'Foreign: for 5 minutes',
      'Foreign: severity undefined',
    ]);
  });
});
