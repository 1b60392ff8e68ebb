import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { readiness, type DependencyCheck } from './readiness.check.ts';

export interface OpsServerOptions {
  registry: Registry;
  /** Dependencies `/readyz` requires (e.g. `database`, `redis`). */
  checks: Record<string, DependencyCheck>;
  /** 0 picks a free port (tests); read the bound one from `port`. */
  port: number;
  host?: string;
  checkTimeoutMs?: number;
}

export interface OpsServer {
  server: Server;
  port: number;
  url: string;
  close(): Promise<void>;
}

function send(res: ServerResponse, status: number, type: string, body: string): void {
  res.writeHead(status, { 'Content-Type': type, 'Cache-Control': 'no-store' });
  res.end(body);
}

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `/metrics`, `/healthz` and `/readyz` for processes that serve no HTTP of their own (worker,
 * scheduler). `/healthz` answers while the event loop turns; `/readyz` answers 503 while any
 * dependency is unreachable. Nothing else is served.
 */
export function opsHandler(options: Omit<OpsServerOptions, 'port' | 'host'>) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://ops').pathname;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      send(res, 405, JSON_TYPE, '{"status":"method not allowed"}');
      return;
    }
    try {
      if (path === '/healthz') {
        send(res, 200, JSON_TYPE, '{"status":"ok"}');
      } else if (path === '/readyz') {
        const result = await readiness(options.checks, options.checkTimeoutMs);
        send(
          res,
          result.ready ? 200 : 503,
          JSON_TYPE,
          JSON.stringify({ status: result.ready ? 'ready' : 'unavailable', checks: result.checks }),
        );
      } else if (path === '/metrics') {
        send(res, 200, options.registry.contentType, await options.registry.metrics());
      } else {
        send(res, 404, JSON_TYPE, '{"status":"not found"}');
      }
    } catch (error) {
      // A failing collector must not take the process down; the scrape shows the failure.
      send(res, 500, 'text/plain; charset=utf-8', `metrics collection failed: ${String(error)}`);
    }
  };
}

export async function startOpsServer(options: OpsServerOptions): Promise<OpsServer> {
  const handle = opsHandler(options);
  const server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * `startOpsServer` for a service whose work must go on without it: a failure to listen (a port
 * clash) is reported and gives undefined; the failing probes make it visible.
 */
export function startOpsServerOrReport(
  options: OpsServerOptions,
  report: (error: unknown) => void,
): Promise<OpsServer | undefined> {
  return startOpsServer(options).catch((error: unknown) => {
    report(error);
    return undefined;
  });
}
