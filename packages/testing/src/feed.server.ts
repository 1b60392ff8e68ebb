import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FeedServer {
  server: Server;
  /** Base URL, e.g. http://127.0.0.1:41234 */
  url: string;
  /** Requests seen so far, by path. */
  hits: Map<string, number>;
  close(): Promise<void>;
}

export type FeedHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** A real HTTP provider on 127.0.0.1 whose behaviour a test changes as it goes. */
export async function startFeedServer(handler: FeedHandler): Promise<FeedServer> {
  const hits = new Map<string, number>();
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://feed').pathname;
    hits.set(path, (hits.get(path) ?? 0) + 1);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
