import type { TestHook } from './database.stack.ts';
import { startFeedServer, type FeedHandler, type FeedServer } from './feed.server.ts';

/** Starts feed servers for a test; `afterEach` closes every one the test started. */
export function feedServersPerTest(
  afterEach: TestHook,
): (handler: FeedHandler) => Promise<FeedServer> {
  const servers: FeedServer[] = [];
  afterEach(() => Promise.all(servers.splice(0).map((server) => server.close())));
  return async (handler) => {
    const server = await startFeedServer(handler);
    servers.push(server);
    return server;
  };
}
