import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';

type Middleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (error?: unknown) => void,
) => void;

/** Sets, on a response, the headers a frozen middleware set (see `recordHeaders`). */
export type HeaderReplay = (res: ServerResponse) => void;

/**
 * Runs a middleware that only sets fixed headers (helmet with static options) once, against a
 * recording response, and returns a function that replays what it did: the same headers in the
 * same order, without the middleware's per-request work. Throws if the middleware did not call
 * `next` synchronously or used anything but setHeader/removeHeader (the recorder has nothing
 * else), so a configuration whose headers depend on the request cannot be frozen by mistake.
 */
export function recordHeaders(middleware: Middleware): HeaderReplay {
  const actions: (readonly [string, string | string[]] | string)[] = [];
  const recorder = {
    setHeader(name: string, value: string | number | readonly string[]) {
      actions.push([name, Array.isArray(value) ? [...(value as string[])] : String(value)]);
      return recorder;
    },
    removeHeader(name: string) {
      actions.push(name);
    },
  };
  let called = false;
  let failure: unknown;
  middleware(
    { headers: {}, method: 'GET', url: '/' } as IncomingMessage,
    recorder as unknown as ServerResponse,
    (error) => {
      called = true;
      failure = error;
    },
  );
  if (!called) throw new Error('recordHeaders: the middleware did not call next() synchronously');
  if (failure) throw new Error('recordHeaders: the middleware failed', { cause: failure });
  return (res) => {
    for (const action of actions) {
      if (typeof action === 'string') res.removeHeader(action);
      else res.setHeader(action[0], action[1]);
    }
  };
}

/** Replays recorded headers as an Express middleware. */
export function replayHeaders(replay: HeaderReplay): RequestHandler {
  return (_req, res, next) => {
    replay(res);
    next();
  };
}
