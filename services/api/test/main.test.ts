import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { apiMainFor } from './main.harness.ts';

const main = apiMainFor('api-main', { beforeAll, afterAll });
const { lines } = main;

function waitForLine(
  predicate: (line: Record<string, unknown>) => boolean,
  timeoutMs = 20_000,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no such log line; got ${JSON.stringify(lines)}`)),
      timeoutMs,
    );
    const poll = setInterval(() => {
      const found = lines.find(predicate);
      if (found) {
        clearTimeout(timer);
        clearInterval(poll);
        resolve(found);
      }
    }, 20);
  });
}

describe('main (the composition root)', () => {
  it('serves on the configured address and exits 0 soon after SIGTERM', async () => {
    // As the package's `start` script runs it: signals reach main.ts itself, not a tsx wrapper.
    const child = main.start({ LOG_LEVEL: 'http' });

    const listening = await waitForLine((line) => line.message === 'listening');
    const url = `http://127.0.0.1:${String(listening.port)}`;
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const search = await fetch(`${url}/search?starts_at=2021-01-01`);
    expect(search.status).toBe(200);
    expect(await search.json()).toEqual({ data: { events: [] }, error: null });
    await waitForLine((line) => line.message === 'request' && line.path === '/search');

    // fetch keeps its connection alive and idle: shutdown must not wait for it.
    const started = Date.now();
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(lines.some((line) => line.message === 'stopped')).toBe(true);
  });
});
