// The ops server of processes without HTTP of their own, and the registry factory, over HTTP.
import { afterEach, describe, expect, it } from '@jest/globals';
import { Counter } from 'prom-client';
import {
  createMetricsRegistry,
  startOpsServer,
  startOpsServerOrReport,
  type OpsServer,
} from '../src/index.ts';

const servers: OpsServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.close();
});

describe('startOpsServerOrReport', () => {
  it('reports a port clash and gives undefined, so the service goes on without it', async () => {
    const registry = createMetricsRegistry('clash-test');
    const options = { registry, port: 0, host: '127.0.0.1', checks: {} };
    const first = await startOpsServerOrReport(options, () => undefined);
    servers.push(first!);
    const reported: unknown[] = [];
    const second = await startOpsServerOrReport({ ...options, port: first!.port }, (error) =>
      reported.push(error),
    );
    expect(second).toBeUndefined();
    expect(String(reported[0])).toMatch(/EADDRINUSE/);
  });
});

describe('startOpsServer', () => {
  it('serves /healthz, /readyz and /metrics; /readyz is 503 while a dependency is down or slow', async () => {
    const registry = createMetricsRegistry('probe-test');
    new Counter({ name: 'marquee_probe_test_total', help: 'test', registers: [registry] }).inc(3);
    let redisUp = true;
    const server = await startOpsServer({
      registry,
      port: 0,
      host: '127.0.0.1',
      checkTimeoutMs: 200,
      checks: {
        database: () => Promise.resolve(),
        redis: () => (redisUp ? Promise.resolve() : Promise.reject(new Error('down'))),
      },
    });
    servers.push(server);

    expect((await fetch(`${server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${server.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([
      200,
      { status: 'ready', checks: { database: 'up', redis: 'up' } },
    ]);

    redisUp = false;
    const down = await fetch(`${server.url}/readyz`);
    expect([down.status, await down.json()]).toEqual([
      503,
      { status: 'unavailable', checks: { database: 'up', redis: 'down' } },
    ]);

    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    const text = await metrics.text();
    expect(text).toMatch(/^marquee_probe_test_total\{service="probe-test"\} 3$/m);
    // Node's default metrics, with the same prefix.
    expect(text).toMatch(/^# TYPE marquee_process_resident_memory_bytes gauge$/m);
    expect((await fetch(`${server.url}/other`)).status).toBe(404);
    expect((await fetch(`${server.url}/metrics`, { method: 'POST' })).status).toBe(405);
  });

  it('times a hanging check out instead of hanging the probe', async () => {
    const server = await startOpsServer({
      registry: createMetricsRegistry('hang-test'),
      port: 0,
      host: '127.0.0.1',
      checkTimeoutMs: 100,
      checks: { database: () => new Promise(() => undefined) },
    });
    servers.push(server);
    const started = Date.now();
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it('fails to start on a taken port (the caller decides what that means)', async () => {
    const first = await startOpsServer({
      registry: createMetricsRegistry('a'),
      port: 0,
      host: '127.0.0.1',
      checks: {},
    });
    servers.push(first);
    await expect(
      startOpsServer({
        registry: createMetricsRegistry('b'),
        port: first.port,
        host: '127.0.0.1',
        checks: {},
      }),
    ).rejects.toThrow(/EADDRINUSE/);
  });
});
