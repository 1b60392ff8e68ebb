import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';

export interface DashboardCredentials {
  basic?: { user: string; password: string };
  token?: string;
}

// Digests have a fixed length, so the comparison takes the same time whatever was sent,
// including its length.
const digest = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/**
 * Basic auth and/or a bearer token, compared in constant time. Without valid credentials:
 * 401 with `WWW-Authenticate`, so browsers prompt for the basic-auth login.
 */
export function dashboardAuth(credentials: DashboardCredentials): RequestHandler {
  const basic = credentials.basic && {
    user: digest(credentials.basic.user),
    password: digest(credentials.basic.password),
  };
  const token = credentials.token === undefined ? undefined : digest(credentials.token);
  if (!basic && !token) throw new Error('dashboardAuth needs basic credentials or a token');
  const challenge = [
    ...(basic ? ['Basic realm="Marquee dashboard", charset="UTF-8"'] : []),
    ...(token ? ['Bearer realm="Marquee dashboard"'] : []),
  ].join(', ');

  return (req, res, next) => {
    const header = req.get('Authorization') ?? '';
    const [scheme = '', value = ''] = header.split(/\s+/, 2);
    let ok = false;
    if (basic && scheme.toLowerCase() === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon !== -1) {
        // Both compared every time: no early exit reveals which one was wrong.
        const userOk = sameSecret(decoded.slice(0, colon), basic.user);
        const passwordOk = sameSecret(decoded.slice(colon + 1), basic.password);
        ok = userOk && passwordOk;
      }
    } else if (token && scheme.toLowerCase() === 'bearer') {
      ok = sameSecret(value, token);
    }
    if (ok) {
      next();
      return;
    }
    res
      .status(401)
      .set('WWW-Authenticate', challenge)
      .set('Cache-Control', 'no-store')
      .type('text/plain')
      .send('authentication required');
  };
}
