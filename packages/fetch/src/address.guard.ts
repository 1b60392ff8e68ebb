import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** What a provider URL may point at. */
export interface AddressPolicy {
  /**
   * ALLOW_PRIVATE_PROVIDERS: loopback, private, link-local, unique-local, CGNAT, unspecified,
   * multicast and reserved addresses are accepted. Cloud metadata endpoints are refused even then:
   * no feed lives there, and a redirect to one is the classic SSRF credential theft.
   */
  allowPrivate: boolean;
}

/** Always refused, whatever the policy (AWS, GCP, Azure, OpenStack and the AWS IPv6 endpoint). */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254']);

const METADATA_RANGE = 'cloud metadata';

/** `code` of the error a refused address raises; got copies it onto its RequestError. */
export const ADDRESS_REFUSED_CODE = 'ERR_ADDRESS_REFUSED';

export class AddressRefusedError extends Error {
  override readonly name = 'AddressRefusedError';
  readonly code = ADDRESS_REFUSED_CODE;

  constructor(
    readonly host: string,
    readonly address: string,
    readonly range: string,
  ) {
    const target = host === address ? address : `${host}: it resolves to ${address}`;
    const hint =
      range === METADATA_RANGE
        ? 'never allowed'
        : 'set ALLOW_PRIVATE_PROVIDERS=true to allow private providers';
    super(`refused to connect to ${target} (${range} address); ${hint}`);
  }
}

/**
 * Why `address` may not be connected to under `policy`, or undefined when it may. Only ipaddr.js's
 * `unicast` range (public addresses) passes without ALLOW_PRIVATE_PROVIDERS; IPv4-mapped IPv6
 * addresses are judged as the IPv4 address they carry.
 */
export function refusalReason(address: string, policy: AddressPolicy): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.process(address);
  } catch {
    return 'unparseable';
  }
  const normalized = parsed.toString();
  if (METADATA_ADDRESSES.has(normalized)) return METADATA_RANGE;
  const range = parsed.range();
  if (range === 'unicast' || policy.allowPrivate) return undefined;
  return range;
}

/** Throws AddressRefusedError when `address` (an IP literal) is refused for `host`. */
function assertAddressAllowed(host: string, address: string, policy: AddressPolicy): void {
  const reason = refusalReason(address, policy);
  if (reason !== undefined) throw new AddressRefusedError(host, address, reason);
}

/** The hostname of a URL as a bare IP literal ("[::1]" → "::1"), or undefined for a name. */
function ipLiteral(hostname: string): string | undefined {
  const bare =
    hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? undefined : bare;
}

/**
 * Checks a URL whose host is an IP literal (Node connects to literals without any lookup, so the
 * guarded lookup below never sees them). Host names pass here: the lookup vets them.
 */
export function assertLiteralHostAllowed(url: URL, policy: AddressPolicy): void {
  const literal = ipLiteral(url.hostname);
  if (literal !== undefined) assertAddressAllowed(literal, literal, policy);
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * A `lookup` for http(s).request/got: resolves every address of the host and fails when any one is
 * refused. The socket connects to the address returned here, so the vetted address is the one
 * used: a DNS answer that changes between check and connect (rebinding) cannot slip through.
 */
export function guardedLookup(policy: AddressPolicy) {
  return function lookup(
    hostname: string,
    options: LookupOptions | LookupCallback,
    maybeCallback?: LookupCallback,
  ): void {
    const callback = (typeof options === 'function' ? options : maybeCallback) as LookupCallback;
    const lookupOptions: LookupOptions = typeof options === 'function' ? {} : options;
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      for (const { address } of addresses) {
        const reason = refusalReason(address, policy);
        if (reason !== undefined) {
          callback(new AddressRefusedError(hostname, address, reason), []);
          return;
        }
      }
      const first = addresses[0];
      if (lookupOptions.all) callback(null, addresses);
      else if (first) callback(null, first.address, first.family);
      else
        callback(Object.assign(new Error(`no address for ${hostname}`), { code: 'ENOTFOUND' }), []);
    });
  };
}

/**
 * Resolves a URL's host and throws AddressRefusedError when it is (or resolves to) a refused
 * address. A host that does not resolve passes: the fetch checks again at connect time, and a
 * provider may be registered before its DNS exists.
 */
export async function assertUrlAllowed(text: string, policy: AddressPolicy): Promise<void> {
  const url = new URL(text);
  assertLiteralHostAllowed(url, policy);
  if (ipLiteral(url.hostname) !== undefined) return;
  await new Promise<void>((resolve, reject) => {
    guardedLookup(policy)(url.hostname, { all: true }, (error) => {
      if (error instanceof AddressRefusedError) reject(error);
      else resolve();
    });
  });
}
