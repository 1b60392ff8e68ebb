// Issue 12, item 6: a provider's configured `headers` may set User-Agent (Discogs requires an
// app-specific one); `providers test` sends it as given to a real server, and Marquee's own
// otherwise.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { startFeedServer, type FeedServer } from '@marquee/testing';
import { CliContext } from '../src/cli.context.ts';
import { runCli } from '../src/program.ts';

let server: FeedServer;
let dir: string;
const agents: (string | undefined)[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'marquee-headers-'));
  server = await startFeedServer((request, response) => {
    agents.push(request.headers['user-agent']);
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({ results: [{ id: 1, title: 'Live', date: '2030-05-01T20:00:00Z' }] }),
    );
  });
});

afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

async function providersTest(config: unknown) {
  const file = join(dir, `config-${agents.length}.json`);
  writeFileSync(file, JSON.stringify(config));
  const out: string[] = [];
  const io = { out: (line: string) => out.push(line), err: () => undefined };
  const context = new CliContext(io, { ALLOW_PRIVATE_PROVIDERS: 'true' });
  try {
    const args = ['providers', 'test', '--kind', 'json-api', '--url', `${server.url}/search`];
    return await runCli([...args, '--config', file, '--json'], () => context, io);
  } finally {
    await context.close();
  }
}

const mapping = { items: 'results', fields: { id: 'id', title: 'title', start: 'date' } };

it('sends the configured User-Agent as given, and the default without one', async () => {
  const discogs = 'MarqueeDiscogs/1.0 +https://marquee.example/contact';
  expect(await providersTest({ ...mapping, headers: { 'User-Agent': discogs } })).toBe(0);
  expect(await providersTest(mapping)).toBe(0);
  expect(agents).toEqual([discogs, expect.stringMatching(/^Marquee\/[\d.]+ providers test$/)]);
});
