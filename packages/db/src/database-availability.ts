/*
 * Whether an error means "the database cannot be used right now" (an outage, a restart, a full
 * pool) rather than "this statement is wrong": callers answer the first with 503 and a retry,
 * the second as a bug. Errors reach callers in three shapes: Prisma's (P1xxx codes, or a driver
 * adapter error in `meta`), pg's own (`code` = SQLSTATE or a socket error code), and plain
 * errors with only a message (pg's pool and connection).
 */

// Driver adapter error kinds (@prisma/driver-adapter-utils) about reaching or using the server.
const UNAVAILABLE_KINDS = new Set([
  'DatabaseNotReachable',
  'DatabaseDoesNotExist',
  'DatabaseAccessDenied',
  'AuthenticationFailed',
  'ConnectionClosed',
  'TlsConnectionError',
  'TooManyConnections',
  'SocketTimeout',
]);

// SQLSTATE: class 08 connection exception, 28 invalid authorization, 3D000 no such database,
// 53300 too many connections, 57P01-57P03 shutting down / cannot connect now.
const UNAVAILABLE_SQLSTATE = /^(?:08|28|3D000$|53300$|57P0[123]$)/;

const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
]);

// pg's messages for a connection that died (or was closed after an error) or a pool that could
// not connect in time.
const UNAVAILABLE_MESSAGE =
  /Connection terminated|is not queryable|timeout exceeded when trying to connect|Can't reach database server/;

function hasUnavailableShape(error: Record<string, unknown>): boolean {
  const { code, meta, message } = error;
  if (typeof code === 'string') {
    if (/^P1\d{3}$/.test(code) || SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATE.test(code)) {
      return true;
    }
  }
  const cause = (meta as { driverAdapterError?: { cause?: Record<string, unknown> } } | undefined)
    ?.driverAdapterError?.cause;
  if (cause) {
    if (typeof cause.kind === 'string' && UNAVAILABLE_KINDS.has(cause.kind)) return true;
    const sqlState = cause.originalCode ?? cause.code;
    if (typeof sqlState === 'string' && UNAVAILABLE_SQLSTATE.test(sqlState)) return true;
  }
  return typeof message === 'string' && UNAVAILABLE_MESSAGE.test(message);
}

/** True when `error` (or an error in its `cause` chain) says the database is unreachable. */
export function isDatabaseUnavailable(error: unknown): boolean {
  let current = error;
  for (let depth = 0; depth < 5 && typeof current === 'object' && current !== null; depth += 1) {
    if (hasUnavailableShape(current as Record<string, unknown>)) return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}
