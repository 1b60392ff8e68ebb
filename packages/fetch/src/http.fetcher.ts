import { STATUS_CODES } from 'node:http';
import got, { MaxRedirectsError, TimeoutError, type Request, type Response } from 'got';
import {
  ADDRESS_REFUSED_CODE,
  assertHostAllowed,
  guardedLookup,
  type AddressPolicy,
} from './address.guard.ts';
import { announcedLength, ResponseBodyCollector } from './response-body.collector.ts';

export type FetchErrorClassification = 'transient' | 'permanent' | 'rate-limited';

/**
 * A failed fetch and what the caller should do about it: `transient` may succeed if retried,
 * `rate-limited` should be retried no sooner than `retryAfterMs` (when known), `permanent` will
 * fail the same way until someone changes the provider or its configuration.
 */
export class FetchError extends Error {
  override readonly name = 'FetchError';
  readonly classification: FetchErrorClassification;
  readonly status?: number;
  readonly retryAfterMs?: number;

  constructor(
    message: string,
    classification: FetchErrorClassification,
    details: {
      status?: number | undefined;
      retryAfterMs?: number | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.classification = classification;
    if (details.status !== undefined) this.status = details.status;
    if (details.retryAfterMs !== undefined) this.retryAfterMs = details.retryAfterMs;
  }
}

/**
 * The fetch was stopped because the payload needs `bytes` of the worker's budget and they are
 * not free: the bytes read were dropped; reserve them, then fetch again. Not a provider failure.
 */
export class BudgetWaitError extends FetchError {
  constructor(readonly bytes: number) {
    super(`payload needs ${bytes} bytes of WORKER_MAX_INFLIGHT_MB; waiting for them`, 'transient');
  }
}

export interface FetchOptions {
  /** Deadline for the whole request: connection, every redirect hop and the full body. */
  timeoutMs: number;
  /** Budget for the TCP (and TLS) connection of each hop. */
  connectTimeoutMs?: number;
  /** Largest (decompressed) body accepted; a larger one is aborted as soon as it crosses the cap. */
  maxBytes: number;
  /**
   * What a body over `maxBytes` does: `fail` (default: a permanent FetchError) or `truncate`: the
   * transfer is aborted there and the fetch resolves with the first `maxBytes` bytes, marked
   * `truncated` (robots.txt, which RFC 9309 lets a crawler read only in part).
   */
  overflow?: 'fail' | 'truncate';
  /**
   * The worker's payload budget (WORKER_MAX_INFLIGHT_MB): asked, without waiting, for the bytes
   * the body needs (its Content-Length at once, else in growing steps); false aborts the fetch
   * with BudgetWaitError. Unset: no budget.
   */
  reserve?: (bytes: number) => boolean;
  /**
   * Stops the request when aborted (its provider was removed): it rejects at once with a
   * permanent FetchError and the socket is closed, whatever the deadline still allowed.
   */
  signal?: AbortSignal;
  /** Sent unless `headers` names a User-Agent: a provider's own (Discogs requires one) wins. */
  userAgent: string;
  headers?: Record<string, string>;
  /**
   * SSRF guard: which addresses the URL and every redirect hop may reach. Default: public
   * addresses only (ALLOW_PRIVATE_PROVIDERS=false).
   */
  addressPolicy?: AddressPolicy;
}

export interface FetchedPayload {
  /** 2xx, or 304 (then `body` is empty). */
  status: number;
  body: Buffer;
  headers: Record<string, string | string[] | undefined>;
  /** The final URL, after redirects. */
  url: string;
  /** Set when the body was cut at `maxBytes` (`overflow: 'truncate'`). */
  truncated?: true;
}

const MAX_REDIRECTS = 5;

// Codes of failures that retrying cannot fix: bad URLs or headers from the configuration, and TLS
// certificates the server must fix. Every other network failure (resets, refused connections,
// DNS errors, timeouts) is transient.
const PERMANENT_CODES = new Set([
  'ERR_INVALID_URL',
  'ERR_UNSUPPORTED_PROTOCOL',
  'ERR_INVALID_PROTOCOL',
  'ERR_INVALID_CHAR',
  'ERR_INVALID_HTTP_TOKEN',
  'ERR_TOO_MANY_REDIRECTS',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}

/** Maps any error thrown while fetching to a FetchError; a FetchError is returned unchanged. */
function classifyError(error: unknown): FetchError {
  if (error instanceof FetchError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const code = errorCode(error);
  if (error instanceof MaxRedirectsError) {
    return new FetchError(`too many redirects (more than ${MAX_REDIRECTS})`, 'permanent', {
      cause: error,
    });
  }
  if (code === ADDRESS_REFUSED_CODE) {
    return new FetchError(message, 'permanent', { cause: error });
  }
  if (error instanceof TimeoutError) {
    return new FetchError(`timed out: ${message}`, 'transient', { cause: error });
  }
  if (code !== undefined && PERMANENT_CODES.has(code)) {
    return new FetchError(`request failed: ${message}`, 'permanent', { cause: error });
  }
  return new FetchError(`request failed: ${message}`, 'transient', { cause: error });
}

// HTTP-date in any of its three forms (IMF-fixdate, RFC 850, asctime) starts with a day name;
// requiring it keeps Date.parse's leniency from reading "7.5" as a calendar date.
const HTTP_DATE = /^(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /;

/** Retry-After as milliseconds from `now`: delay-seconds or an HTTP-date (a past date gives 0). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  if (!HTTP_DATE.test(text)) return undefined;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The error for a final response that is neither 2xx nor 304. */
function statusError(status: number, retryAfter: string | undefined): FetchError {
  const retryAfterMs = parseRetryAfter(retryAfter);
  const label = `HTTP ${status}${STATUS_CODES[status] ? ` ${STATUS_CODES[status]}` : ''}`;
  const retryNote = retryAfterMs === undefined ? '' : `; retry after ${retryAfterMs} ms`;
  // A 503 is a rate limit only when the server says when to come back; otherwise it is an outage.
  if (status === 429 || (status === 503 && retryAfterMs !== undefined)) {
    return new FetchError(label + retryNote, 'rate-limited', { status, retryAfterMs });
  }
  // 408: the server gave up waiting for our request, which says nothing about the next one.
  if (status >= 500 || status === 408) return new FetchError(label, 'transient', { status });
  return new FetchError(label, 'permanent', { status });
}

function tooLarge(maxBytes: number, detail: string): FetchError {
  return new FetchError(
    `response body exceeds the limit of ${maxBytes} bytes (${detail})`,
    'permanent',
  );
}

/**
 * GETs `url` and returns its body, never holding more than `maxBytes` (plus one chunk) in memory;
 * a body with a Content-Length is read into one buffer of that size (ResponseBodyCollector).
 * Redirects are followed up to MAX_REDIRECTS; nothing is retried here (the queue retries). Every
 * failure rejects with a FetchError.
 */
export async function fetchPayload(url: string, options: FetchOptions): Promise<FetchedPayload> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(options.headers ?? {}))
    headers[name.toLowerCase()] = value;
  headers['user-agent'] ??= options.userAgent;
  const policy = options.addressPolicy ?? { allowPrivate: false };

  let stream: Request;
  try {
    // Literal hosts are checked here and on every hop; named hosts by the lookup at connect time.
    assertHostAllowed(new URL(url), policy);
    stream = got.stream(url, {
      headers,
      // got restarts its own timers on every redirect hop, so the overall deadline is ours (below).
      timeout: options.connectTimeoutMs === undefined ? {} : { connect: options.connectTimeoutMs },
      followRedirect: true,
      maxRedirects: MAX_REDIRECTS,
      retry: { limit: 0 },
      throwHttpErrors: false,
      decompress: true,
      dnsLookup: guardedLookup(policy),
      hooks: {
        beforeRedirect: [(next) => assertHostAllowed(next.url as URL, policy)],
      },
    });
  } catch (error) {
    throw classifyError(error);
  }
  return readBody(stream, options);
}

function readBody(stream: Request, options: FetchOptions): Promise<FetchedPayload> {
  return new Promise((resolve, reject) => {
    // Created at the final response; dropped when the fetch settles, so a failed or delivered
    // body never lives as long as the request object.
    let body: ResponseBodyCollector | undefined;
    let response: Response | undefined;
    let budget: BodyBudget | undefined;
    let settled = false;

    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      options.signal?.removeEventListener('abort', aborted);
      outcome();
    };
    // Destroying the request closes its socket, so the server stops sending at once.
    const fail = (error: FetchError): void =>
      settle(() => {
        body = undefined;
        stream.destroy();
        reject(error);
      });

    const deadline = setTimeout(
      () => fail(new FetchError(`request timed out after ${options.timeoutMs} ms`, 'transient')),
      options.timeoutMs,
    );
    const aborted = (): void => fail(new FetchError('request aborted', 'permanent'));
    if (options.signal?.aborted) aborted();
    else options.signal?.addEventListener('abort', aborted, { once: true });

    // Stays attached after settling, so a late error never becomes an unhandled 'error' event.
    stream.on('error', (error: unknown) => fail(classifyError(error)));

    stream.on('response', (final: Response) => {
      response = final;
      const accepted = acceptResponse(final, options);
      if (accepted instanceof FetchError) return fail(accepted);
      budget = new BodyBudget(options, final.statusCode === 304 ? 0 : accepted.announced);
      const refused = budget.refusal(0);
      if (refused) fail(refused);
      else body = accepted;
    });

    stream.on('data', (chunk: Buffer) => {
      if (settled || !body) return;
      const taken = takeChunk(chunk, body, budget, response, options);
      if (taken instanceof FetchError) fail(taken);
      else if (taken)
        settle(() => {
          body = undefined;
          stream.destroy();
          resolve(taken);
        });
    });

    stream.on('end', () => {
      settle(() => {
        const payload = completePayload(response, body);
        body = undefined;
        if (payload instanceof FetchError) reject(payload);
        else resolve(payload);
      });
    });
  });
}

/**
 * One chunk of the body: kept (undefined), the end of a truncated read (the payload cut at
 * `maxBytes`), or why the read fails.
 */
function takeChunk(
  chunk: Buffer,
  body: ResponseBodyCollector,
  budget: BodyBudget | undefined,
  response: Response | undefined,
  options: FetchOptions,
): FetchError | FetchedPayload | undefined {
  const received = body.size + chunk.length;
  const refused = budget?.refusal(received);
  if (refused) return refused;
  if (received > options.maxBytes) {
    return options.overflow === 'truncate'
      ? truncatedPayload(response, body, chunk, options.maxBytes)
      : tooLarge(options.maxBytes, `received ${received} bytes so far`);
  }
  // Node's HTTP parser ends an identity body at its Content-Length; this only guards the copy.
  if (!body.push(chunk)) {
    return new FetchError(
      `response body runs past its Content-Length of ${body.announced} bytes`,
      'transient',
    );
  }
  return undefined;
}

/** Unknown lengths are reserved in steps that double from this, up to `maxBytes`. */
const BUDGET_STEP_BYTES = 8 * 1024 * 1024;

/** What a body has reserved of the worker's payload budget (`reserve`), grown as it arrives. */
class BodyBudget {
  private granted = 0;

  constructor(
    private readonly options: FetchOptions,
    private readonly announced: number | undefined,
  ) {}

  /** Undefined when `received` bytes are covered (reserving more if needed), else why not. */
  refusal(received: number): BudgetWaitError | undefined {
    const { reserve, maxBytes } = this.options;
    if (reserve === undefined || (received <= this.granted && this.granted > 0)) return undefined;
    const wanted =
      this.announced ??
      Math.min(maxBytes + 1, Math.max(received, this.granted * 2, BUDGET_STEP_BYTES));
    if (!reserve(wanted)) return new BudgetWaitError(wanted);
    this.granted = wanted;
    return undefined;
  }
}

/** The collector for the final response's body, or why the response is refused before its body. */
function acceptResponse(
  final: Response,
  options: FetchOptions,
): ResponseBodyCollector | FetchError {
  const status = final.statusCode;
  if ((status < 200 || status > 299) && status !== 304) {
    return statusError(status, final.headers['retry-after']);
  }
  // Only an identity body's Content-Length is its size; a compressed one says nothing about the
  // decompressed size, which the running count in readBody enforces.
  const announced = announcedLength(status, final.headers);
  if (announced !== undefined && announced > options.maxBytes) {
    // Truncated, the body never reaches its announced length: it is collected unsized.
    if (options.overflow === 'truncate') return new ResponseBodyCollector();
    return tooLarge(options.maxBytes, `Content-Length ${announced}`);
  }
  return new ResponseBodyCollector(announced);
}

/** The first `maxBytes` bytes of a body, `chunk` being the one that crosses the cap. */
function truncatedPayload(
  response: Response | undefined,
  collected: ResponseBodyCollector,
  chunk: Buffer,
  maxBytes: number,
): FetchedPayload {
  collected.push(chunk.subarray(0, maxBytes - collected.size));
  return {
    status: response?.statusCode ?? 200,
    body: collected.take() ?? Buffer.alloc(0),
    headers: { ...response?.headers },
    url: response?.url ?? '',
    truncated: true,
  };
}

/** The payload once the stream ended, or why it is incomplete. */
function completePayload(
  response: Response | undefined,
  collected: ResponseBodyCollector | undefined,
): FetchedPayload | FetchError {
  if (!response || !collected)
    return new FetchError('request ended without a response', 'transient');
  const whole = collected.take();
  if (!whole) {
    return new FetchError(
      `response body ended after ${collected.size} of the ${collected.announced} bytes its Content-Length announced`,
      'transient',
    );
  }
  return {
    status: response.statusCode,
    body: whole,
    headers: { ...response.headers },
    url: response.url,
  };
}
