import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import express from 'express';
import { createLogger } from '@marquee/logger';
import { errorHandler } from '../src/error.middleware.ts';
import { requestContext } from '../src/request-context.middleware.ts';

// The search routes never raise these; routes with path parameters or bodies will.
let server: Server;
let url: string;
const logged: string[] = [];

beforeAll(async () => {
  const stream = new PassThrough();
  stream.on('data', (chunk: Buffer) => logged.push(chunk.toString('utf8')));
  const logger = createLogger({ service: 'api', stream });
  const app = express();
  app.use(requestContext(logger));
  app.get('/exposed', () => {
    throw Object.assign(new Error('unexpected end of JSON input'), { status: 400, expose: true });
  });
  app.get('/hidden', () => {
    throw Object.assign(new URIError('secret detail'), { status: 400 });
  });
  app.get('/items/:id', (_req, res) => {
    res.send('ok');
  });
  app.get('/boom', () => {
    throw new Error('database password is hunter2');
  });
  app.use(errorHandler(logger));
  server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('errorHandler', () => {
  it.each([
    ['/exposed', 400, 'bad_request', 'unexpected end of JSON input'],
    ['/hidden', 400, 'bad_request', 'malformed request'],
    ['/items/%E0%A4%A', 400, 'bad_request', 'malformed request'],
    ['/boom', 500, 'internal', 'internal error'],
  ])('answers %s with %i %s', async (path, status, code, message) => {
    const response = await fetch(`${url}${path}`);
    expect(response.status).toBe(status);
    expect(await response.json()).toEqual({ data: null, error: { code, message } });
  });

  it('logs only unexpected errors, with the request id', async () => {
    const response = await fetch(`${url}/boom`, { headers: { 'X-Request-Id': 'boom-1' } });
    await response.arrayBuffer();
    const errors = logged.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(errors.filter((line) => line.level === 'error')).toEqual([
      expect.objectContaining({ requestId: expect.any(String) }),
      expect.objectContaining({ requestId: 'boom-1', message: 'request failed', path: '/boom' }),
    ]);
  });
});
