// Request targets in absolute form (as proxies send them, `GET http://host/path HTTP/1.1`): a
// well-formed one is routed by its path; one whose host the router cannot parse gets the 400
// envelope, never Express's HTML page. Raw bytes on a socket: fetch never sends such targets.
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startApi, type ApiFixture } from './api.fixture.ts';

let api: ApiFixture;

beforeAll(async () => {
  api = await startApi('request-target');
});
afterAll(async () => {
  await api.close();
});

/** `GET <target>` on a fresh connection; the status, content type and body that came back. */
function get(target: string): Promise<{ status: number; type: string; body: string }> {
  const { hostname, port } = new URL(api.url);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    });
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const [head = '', ...rest] = Buffer.concat(chunks).toString('utf8').split('\r\n\r\n');
      const type = /^content-type: (.*)$/im.exec(head)?.[1] ?? '';
      resolve({ status: Number(head.split(' ')[1]), type, body: rest.join('\r\n\r\n') });
    });
  });
}

describe('absolute-form request targets', () => {
  it('a well-formed one is answered by its path', async () => {
    const answer = await get('http://api.example/search');
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ data: { events: [] }, error: null });
  });

  it.each(['http://[::1/search', 'http://[::1/'])(
    'one the router cannot parse (%s) gets the 400 envelope',
    async (target) => {
      const answer = await get(target);
      expect({ status: answer.status, type: answer.type }).toEqual({
        status: 400,
        type: 'application/json; charset=utf-8',
      });
      expect(JSON.parse(answer.body)).toEqual({
        data: null,
        error: { code: 'bad_request', message: 'malformed request target' },
      });
    },
  );
});
