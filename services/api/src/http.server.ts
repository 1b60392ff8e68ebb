import { createServer, STATUS_CODES, type RequestListener, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { ALLOWED_METHODS } from './request-limits.middleware.ts';
import { errorBody } from './response.envelope.ts';

/** What Node's HTTP parser attaches to the error of a request it could not parse. */
interface ParseError extends Error {
  code?: string;
  bytesParsed?: number;
  rawPacket?: Buffer;
}

interface ClientErrorAnswer {
  status: number;
  code: string;
  message: string;
  headers?: Record<string, string>;
}

const CRLF = Buffer.from('\r\n');
const METHOD_START = /^[A-Z]+ /;

/**
 * Over Node's header limit (`maxHeaderSize`, 16 KiB by default, request line included): 414 when
 * the request line alone did not fit, else 431. The parser fails within the first chunk it reads
 * (64 KiB) unless the client trickles, so the chunk normally starts with the request line.
 */
function overflowAnswer(error: ParseError): ClientErrorAnswer {
  const packet = error.rawPacket;
  const parsed = packet?.subarray(0, error.bytesParsed ?? packet.length);
  const requestLineTooLong =
    parsed !== undefined &&
    METHOD_START.test(parsed.toString('latin1', 0, 16)) &&
    parsed.indexOf(CRLF) === -1;
  return requestLineTooLong
    ? { status: 414, code: 'query_too_long', message: 'request line over the server limit' }
    : { status: 431, code: 'headers_too_large', message: 'request headers over the server limit' };
}

/** The envelope for a request Node's parser refused before any handler saw it. */
function clientErrorAnswer(error: ParseError): ClientErrorAnswer {
  switch (error.code) {
    case 'HPE_HEADER_OVERFLOW':
      return overflowAnswer(error);
    case 'HPE_INVALID_METHOD':
      return {
        status: 405,
        code: 'method_not_allowed',
        message: `unknown method; use ${ALLOWED_METHODS}`,
        headers: { Allow: ALLOWED_METHODS },
      };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return { status: 408, code: 'request_timeout', message: 'request not received in time' };
    default:
      return { status: 400, code: 'bad_request', message: 'malformed HTTP request' };
  }
}

const answered = new WeakSet<Duplex>();

// Long enough for a client to finish sending what it had started and read the answer.
const DRAIN_MS = 5_000;

/**
 * Writes `answer` as the error envelope straight on the socket, once, then keeps reading what the
 * client still sends until it closes: closing a socket with unread bytes resets the connection,
 * and the client would lose the answer.
 */
function answerOnSocket(socket: Duplex, answer: ClientErrorAnswer): void {
  if (answered.has(socket)) return;
  answered.add(socket);
  const { status, code, message, headers = {} } = answer;
  const body = errorBody(code, message);
  const head = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? ''}`,
    'Content-Type: application/json; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Cache-Control: no-store',
    'X-Content-Type-Options: nosniff',
    'Connection: close',
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
  ];
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  socket.on('data', () => undefined);
  socket.resume();
  setTimeout(() => socket.destroy(), DRAIN_MS).unref();
}

/**
 * Answers a request Node's parser refused (over-long request line or headers, unknown method,
 * malformed syntax) with the error envelope instead of Node's bare status line. Node raises the
 * event again for the bytes that follow; the socket is answered once.
 */
function answerClientError(error: ParseError, socket: Duplex): void {
  if (answered.has(socket)) return;
  if (error.code === 'ECONNRESET' || !socket.writable) {
    answered.add(socket);
    socket.destroy();
    return;
  }
  answerOnSocket(socket, clientErrorAnswer(error));
}

/** CONNECT never reaches the request listener: Node would drop the socket without an answer. */
function answerConnect(_request: unknown, socket: Duplex): void {
  answerOnSocket(socket, {
    status: 405,
    code: 'method_not_allowed',
    message: `CONNECT is not allowed; use ${ALLOWED_METHODS}`,
    headers: { Allow: ALLOWED_METHODS },
  });
}

/** The API's HTTP server: `listener` for requests, the envelope for requests Node cannot parse. */
export function createApiServer(listener: RequestListener): Server {
  const server = createServer(listener);
  server.on('clientError', answerClientError);
  server.on('connect', answerConnect);
  return server;
}
