import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { eventually } from '@marquee/testing';
import { apiMainFor } from './main.harness.ts';

const main = apiMainFor('api-cluster', { beforeAll, afterAll });
const { lines } = main;

const linesWith = (message: string) => lines.filter((line) => line.message === message);

describe('main with API_WORKERS=2', () => {
  it('serves one port from two worker processes and exits 0 after SIGTERM', async () => {
    const child = main.start({ API_WORKERS: '2', LOG_LEVEL: 'info' });

    await eventually(
      () => Promise.resolve(linesWith('listening').length >= 2 ? true : undefined),
      30_000,
      'two listening workers',
    );
    // Port 0 in a cluster: the primary binds once and both workers share that port.
    const ports = new Set(linesWith('listening').map((line) => line.port));
    expect(ports.size).toBe(1);
    const url = `http://127.0.0.1:${String([...ports][0])}`;
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => fetch(`${url}/search?starts_at=2021-01-01`)),
    );
    expect(answers.map((answer) => answer.status)).toEqual(Array(20).fill(200));
    expect(await answers[0]!.json()).toEqual({ data: { events: [] }, error: null });

    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(linesWith('stopped')).toHaveLength(2);
  });
});
