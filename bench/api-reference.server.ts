// The two references of the API benchmark, in a process of their own like the API: a bare
// node:http server (the machine's ceiling) and a minimal Express 5 app (the framework's ceiling),
// both answering the same bytes from memory, by path.
// Usage: node --import tsx bench/api-reference.server.ts <node|express> <port> <bodies.json>
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type Express from 'express';
import { REPO_ROOT } from '@marquee/testing';

const [kind, portText, bodiesFile] = process.argv.slice(2);
const bodies = new Map(
  Object.entries(JSON.parse(readFileSync(bodiesFile!, 'utf8')) as Record<string, string>).map(
    ([path, base64]) => [path, Buffer.from(base64, 'base64')],
  ),
);
const port = Number(portText);
const TYPE = 'application/json; charset=utf-8';

function pathOf(url: string | undefined): string {
  const text = url ?? '/';
  const mark = text.indexOf('?');
  return mark === -1 ? text : text.slice(0, mark);
}

if (kind === 'node') {
  createServer((request, response) => {
    const body = bodies.get(request.url ?? '') ?? bodies.get(pathOf(request.url));
    if (!body) return response.writeHead(404).end();
    response.writeHead(200, { 'Content-Type': TYPE, 'Content-Length': body.length }).end(body);
  }).listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
} else {
  // Express is a dependency of the api package, not of the repository root.
  const express = createRequire(join(REPO_ROOT, 'services/api/package.json'))(
    'express',
  ) as typeof Express;
  const app = express();
  app.set('etag', false);
  app.get('/{*path}', (request, response) => {
    const body = bodies.get(request.originalUrl) ?? bodies.get(request.path);
    if (!body) {
      response.status(404).end();
      return;
    }
    response.set('Content-Type', TYPE).send(body);
  });
  app.listen(port, '127.0.0.1', () => process.stdout.write('listening\n'));
}
