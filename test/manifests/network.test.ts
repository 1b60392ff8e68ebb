// Network exposure of every kustomization: NetworkPolicies, Service types and the Ingress.
import { describe, expect, it } from '@jest/globals';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import { byKind, renderedBeforeAll, RENDERS } from './manifests.helpers.ts';

describe.each(RENDERS)('kustomize %s', (dir) => {
  const objects = renderedBeforeAll(dir);

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
});
