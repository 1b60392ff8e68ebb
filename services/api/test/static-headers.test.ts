import { once } from 'node:events';
import { get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from '@jest/globals';
import express, { type RequestHandler } from 'express';
import helmet from 'helmet';
import { recordHeaders, replayHeaders } from '../src/static-headers.middleware.ts';

const servers: Server[] = [];

afterAll(async () => {
  await Promise.all(
    servers.map((server) => new Promise((resolve) => server.close(() => resolve(undefined)))),
  );
});

/** Every header of a GET answered by `middleware` then a fixed body, in arrival order. */
async function headersFrom(middleware: RequestHandler): Promise<[string, string][]> {
  const app = express();
  app.use(middleware);
  app.get('/', (_req, res) => {
    res.send('ok');
  });
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await once(server, 'listening');
  // rawHeaders, not fetch(): fetch's Headers sorts names, and the order is part of the claim.
  const response = await new Promise<IncomingMessage>((resolve, reject) =>
    get(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`, resolve).on('error', reject),
  );
  response.resume();
  await once(response, 'end');
  const pairs: [string, string][] = [];
  for (let at = 0; at < response.rawHeaders.length; at += 2) {
    pairs.push([response.rawHeaders[at]!, response.rawHeaders[at + 1]!]);
  }
  return pairs.filter(([name]) => !['Date', 'Connection', 'Keep-Alive'].includes(name));
}

describe('recordHeaders + replayHeaders', () => {
  it('answers exactly the headers helmet sets, in the same order', async () => {
    const live = await headersFrom(helmet());
    const frozen = await headersFrom(replayHeaders(recordHeaders(helmet())));
    expect(live.map(([name]) => name)).toContain('Content-Security-Policy');
    expect(frozen).toEqual(live);
  });

  it('refuses a middleware whose headers depend on the request', () => {
    const perRequest = ((req, res, next) => {
      res.setHeader('Vary', String(req.headers.host));
      setImmediate(next);
    }) as RequestHandler;
    expect(() => recordHeaders(perRequest as never)).toThrow(/next\(\) synchronously/);
  });
});
