import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import type { LoginThrottle } from './login.throttle.ts';

export interface DashboardCredentials {
  basic?: { user: string; password: string };
  token?: string;
}

export interface DashboardAuthOptions {
  /** Wrong logins per client (`req.ip`, after `trust proxy`); none: unthrottled. */
  throttle?: LoginThrottle | undefined;
  /** The throttle's store failed: the login is checked unthrottled, and this is told why. */
  onThrottleError?: (error: unknown) => void;
}

// Digests have a fixed length, so the comparison takes the same time whatever was sent,
// including its length.
const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

type Verifier = (header: string) => boolean;

function verifier(credentials: DashboardCredentials): Verifier {
  const basic = credentials.basic && {
    user: digest(credentials.basic.user),
    password: digest(credentials.basic.password),
  };
  const token = credentials.token === undefined ? undefined : digest(credentials.token);
  if (!basic && !token) throw new Error('dashboardAuth needs basic credentials or a token');
  return (header) => {
    const [scheme = '', value = ''] = header.split(/\s+/, 2);
    if (basic && scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) return false;
      // Both compared every time: no early exit reveals which one was wrong.
      const userOk = sameSecret(decoded.slice(0, colon), basic.user);
      const passwordOk = sameSecret(decoded.slice(colon + 1), basic.password);
      return userOk && passwordOk;
    }
    if (token && scheme.toLowerCase() === 'bearer') return sameSecret(value, token);
    return false;
  };
}

/**
 * Basic auth and/or a bearer token, compared in constant time. Without valid credentials:
 * 401 with `WWW-Authenticate`, so browsers prompt for the basic-auth login. With a throttle, a
 * client past its wrong logins gets 429 with `Retry-After`, whatever it sends (a right guess
 * then would tell it it was right); a request without credentials is no attempt.
 */
export function dashboardAuth(
  credentials: DashboardCredentials,
  options: DashboardAuthOptions = {},
): RequestHandler {
  const verify = verifier(credentials);
  const challenge = [
    ...(credentials.basic ? ['Basic realm="Marquee dashboard", charset="UTF-8"'] : []),
    ...(credentials.token !== undefined ? ['Bearer realm="Marquee dashboard"'] : []),
  ].join(', ');
  const { throttle, onThrottleError = () => undefined } = options;
  const client = (req: Request) => req.ip ?? req.socket.remoteAddress ?? 'unknown';

  return async (req, res, next) => {
    const header = req.get('Authorization');
    if (header !== undefined && throttle) {
      const waitMs = await throttle.waitFor(client(req)).catch((error: unknown) => {
        onThrottleError(error);
        return 0;
      });
      if (waitMs > 0) {
        tooManyAttempts(res, waitMs);
        return;
      }
    }
    if (header !== undefined && verify(header)) {
      next();
      return;
    }
    if (header !== undefined) await throttle?.failed(client(req)).catch(onThrottleError);
    res
      .status(401)
      .set('WWW-Authenticate', challenge)
      .set('Cache-Control', 'no-store')
      .type('text/plain')
      .send('authentication required');
  };
}

function tooManyAttempts(res: Response, waitMs: number): void {
  res
    .status(429)
    .set('Retry-After', String(Math.max(1, Math.ceil(waitMs / 1000))))
    .set('Cache-Control', 'no-store')
    .type('text/plain')
    .send('too many wrong logins from this address; try again later');
}
