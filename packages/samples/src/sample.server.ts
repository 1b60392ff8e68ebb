import { readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'fever');
// The last is snapshot 3 again in the newer planList form: same data, so that sync changes nothing.
const SNAPSHOTS = ['response_1.xml', 'response_2.xml', 'response_3.xml', 'plans.xml'];

export interface SampleServer {
  server: Server;
  url: string;
  close(): Promise<void>;
}

/**
 * Serves the bundled Fever payloads like a live provider:
 * - `/fever/feed.xml` walks through the snapshots, one per request, then stays on the last, so
 *   a running stack shows the feed changing (`?snapshot=1..4` pins one);
 * - `/fever/plans.xml` always serves the planList form.
 */
export async function startSampleServer(port = 0, host = '127.0.0.1'): Promise<SampleServer> {
  const payloads = new Map<string, Buffer>();
  for (const file of SNAPSHOTS) payloads.set(file, await readFile(join(FIXTURES, file)));
  let served = 0;

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://sample');
    let file: string | undefined;
    if (url.pathname === '/fever/feed.xml') {
      const pinned = Number(url.searchParams.get('snapshot'));
      file =
        SNAPSHOTS[
          pinned >= 1 && pinned <= SNAPSHOTS.length
            ? pinned - 1
            : Math.min(served++, SNAPSHOTS.length - 1)
        ];
    } else if (url.pathname === '/fever/plans.xml') {
      file = 'plans.xml';
    }
    const body = file === undefined ? undefined : payloads.get(file);
    if (body === undefined) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    response.writeHead(200, {
      'content-type': 'application/xml; charset=utf-8',
      'content-length': body.length,
    });
    response.end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const address = server.address() as AddressInfo;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The providers `pnpm start` registers on an empty catalog. */
export function sampleProviders(baseUrl: string) {
  return [
    {
      name: 'fever-sample',
      kind: 'fever-xml',
      url: `${baseUrl}/fever/feed.xml`,
      everySeconds: 60,
      timezone: 'UTC',
    },
  ];
}
