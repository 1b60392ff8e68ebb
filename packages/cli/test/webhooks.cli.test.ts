// `marquee webhooks add|list|remove|test` in process on a real PostgreSQL: the secret is printed
// once (`whsec_`) and never listed, and `test` sends a message a local receiver verifies with the
// `standardwebhooks` package, as a consumer would.
import { describe, expect, it } from '@jest/globals';
import type { IncomingHttpHeaders } from 'node:http';
import { Webhook } from 'standardwebhooks';
import { useCliStack } from './cli.harness.ts';

/** What the receiver got, and the status it answers with. */
const received: { body: string; headers: IncomingHttpHeaders }[] = [];
let answer = 204;

const stack = useCliStack({
  label: 'cli-webhooks',
  env: { ALLOW_PRIVATE_WEBHOOKS: 'true' },
  feed: (request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      received.push({ body, headers: request.headers });
      response.writeHead(answer).end();
    });
  },
});

const marquee = (...args: string[]) => stack.marquee('webhooks', ...args);

describe('marquee webhooks', () => {
  it('adds an endpoint whose secret is shown once, lists it without it, tests it, removes it', async () => {
    const added = await marquee('add', `${stack.feed.url}/hooks`, '--events', 'created,cancelled');
    expect(added.code).toBe(0);
    const secret = added.out;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(added.err).toContain('it is not shown again');
    const id = /added endpoint ([0-9a-f-]{36})/.exec(added.err)?.[1];
    expect(id).toBeDefined();

    const listed = await marquee('list');
    expect(listed.code).toBe(0);
    expect(listed.out).toContain(`${id}  ${stack.feed.url}/hooks  created,cancelled`);
    expect(listed.out).toContain('pending 0  delivered 0  failed 0  last delivery never');
    const listedJson = await marquee('list', '--json');
    expect(listedJson.out).toContain(id);
    for (const text of [listed.out, listed.err, listedJson.out])
      expect(text).not.toContain(secret.slice('whsec_'.length));

    const tested = await marquee('test', id!);
    expect(tested).toMatchObject({ code: 0, out: `${stack.feed.url}/hooks answered 204` });
    expect(received).toHaveLength(1);
    const { body, headers } = received[0]!;
    expect(headers['webhook-id']).toMatch(/^msg_/);
    const verified = new Webhook(secret).verify(body, headers as Record<string, string>);
    expect(verified).toMatchObject({ type: 'webhook.test', data: { endpoint_id: id } });
    expect(() =>
      new Webhook(`whsec_${Buffer.from('another key').toString('base64')}`).verify(
        body,
        headers as Record<string, string>,
      ),
    ).toThrow();

    answer = 500;
    const refused = await marquee('test', id!);
    expect(refused.code).not.toBe(0);
    expect(refused.err).toContain('HTTP 500');
    answer = 204;

    expect(await marquee('remove', id!)).toMatchObject({ code: 0, out: `removed ${id}` });
    expect((await marquee('list')).out).toBe('no endpoints');
    const gone = await marquee('test', id!);
    expect(gone.code).not.toBe(0);
    expect(gone.err).toContain(`no endpoint ${id}`);
    expect(received).toHaveLength(2);
  });

  it('refuses an unknown event kind, naming the option', async () => {
    const bad = await marquee('add', `${stack.feed.url}/hooks`, '--events', 'created,exploded');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('--events must be a comma-separated list');
    expect((await marquee('list')).out).toBe('no endpoints');
  });
});
