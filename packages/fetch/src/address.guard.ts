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
  /** Whose addresses these are, so a refusal names the variable that allows them (providers). */
  target?: AddressTarget;
}

/** What a guarded URL belongs to; each has its own ALLOW_PRIVATE_* variable. */
export type AddressTarget = 'providers' | 'webhooks';

const ALLOW_HINTS: Record<AddressTarget, string> = {
  providers: 'set ALLOW_PRIVATE_PROVIDERS=true to allow private providers',
  webhooks: 'set ALLOW_PRIVATE_WEBHOOKS=true to allow private webhook endpoints',
};

/**
 * Always refused, whatever the policy: the instance metadata and credential endpoints of the
 * clouds (AWS, GCP, Azure, OpenStack, DigitalOcean: 169.254.169.254; AWS ECS task credentials
 * 169.254.170.2, EKS Pod Identity 169.254.170.23 and fd00:ec2::23, AWS IPv6 fd00:ec2::254; GCP
 * IPv6 fd20:ce::254; Alibaba 100.100.100.200; Azure's wireserver 168.63.129.16; Tencent
 * 169.254.0.23; Oracle's legacy 192.0.0.192). Compared in ipaddr.js's normal form.
 */
const METADATA_ADDRESSES = new Set([
  '169.254.169.254',
  '169.254.170.2',
  '169.254.170.23',
  '169.254.0.23',
  '100.100.100.200',
  '168.63.129.16',
  '192.0.0.192',
  'fd00:ec2::254',
  'fd00:ec2::23',
  'fd20:ce::254',
]);

/** Names of metadata endpoints, refused before any lookup (they resolve only inside a cloud). */
const METADATA_HOSTS = new Set([
  'metadata.google.internal',
  'metadata.goog',
  'metadata',
  'instance-data',
  'instance-data.ec2.internal',
  'metadata.tencentyun.com',
]);

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
    addressTarget: AddressTarget = 'providers',
  ) {
    const target = host === address ? address : `${host}: it resolves to ${address}`;
    const hint = range === METADATA_RANGE ? 'never allowed' : ALLOW_HINTS[addressTarget];
    super(`refused to connect to ${target} (${range} address); ${hint}`);
  }
}

function ipv4Of(high: number, low: number): ipaddr.IPv4 {
  return new ipaddr.IPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
}

/**
 * IPv6 forms that translate to the IPv4 address in their last 32 bits, whichever way a stack or
 * gateway treats them: IPv4-mapped (::ffff:0:0/96), IPv4-compatible (::/96, deprecated but still
 * routed by some stacks: `::7f00:1` is 127.0.0.1), SIIT (::ffff:0:0:0/96) and NAT64 (the
 * well-known 64:ff9b::/96 and the local-use 64:ff9b:1::/48 with a /96 prefix).
 */
function translatedIPv4(address: ipaddr.IPv6): ipaddr.IPv4 | undefined {
  const [w0, w1, w2, w3, w4, w5, w6 = 0, w7 = 0] = address.parts;
  const zeroes = (...words: (number | undefined)[]) => words.every((word) => word === 0);
  const range = address.range();
  const compatible = zeroes(w0, w1, w2, w3, w4, w5) && (w6 !== 0 || w7 > 1);
  if (range === 'ipv4Mapped' || range === 'rfc6145' || range === 'rfc6052' || compatible) {
    return ipv4Of(w6, w7);
  }
  return undefined;
}

/**
 * Tunnel forms that lead to an IPv4 host through a relay: 6to4 (2002::/16, the address in bits
 * 16–47) and Teredo (2001::/32: the server in bits 32–63, the client obfuscated in the last 32).
 */
function tunnelledIPv4(address: ipaddr.IPv6): ipaddr.IPv4[] {
  const [, w1 = 0, w2 = 0, w3 = 0, , , w6 = 0, w7 = 0] = address.parts;
  switch (address.range()) {
    case '6to4':
      return [ipv4Of(w1, w2)];
    case 'teredo':
      return [ipv4Of(w2, w3), ipv4Of(w6 ^ 0xffff, w7 ^ 0xffff)];
    default:
      return [];
  }
}

function ownReason(address: ipaddr.IPv4 | ipaddr.IPv6, policy: AddressPolicy): string | undefined {
  // toString() is the compressed form (RFC 5952) the set is written in; a zone id is dropped.
  if (METADATA_ADDRESSES.has(address.toString().replace(/%.*$/, ''))) return METADATA_RANGE;
  const range = address.range();
  if (range === 'unicast' || policy.allowPrivate) return undefined;
  return range;
}

/**
 * Why `address` may not be connected to under `policy`, or undefined when it may. Only ipaddr.js's
 * `unicast` range (public addresses) passes without ALLOW_PRIVATE_PROVIDERS. An IPv6 address that
 * translates to an IPv4 one (mapped, compatible, SIIT, NAT64) is judged as that IPv4 address; a
 * tunnel address (6to4, Teredo) is refused when an IPv4 address it leads to is, else judged as
 * itself. Cloud metadata addresses are refused in every form.
 */
export function refusalReason(address: string, policy: AddressPolicy): string | undefined {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address);
  } catch {
    return 'unparseable';
  }
  if (parsed.kind() === 'ipv4') return ownReason(parsed, policy);
  const ipv6 = parsed as ipaddr.IPv6;
  if (ownReason(ipv6, { allowPrivate: true }) !== undefined) return METADATA_RANGE;
  const translated = translatedIPv4(ipv6);
  if (translated !== undefined) return ownReason(translated, policy);
  for (const tunnelled of tunnelledIPv4(ipv6)) {
    const reason = ownReason(tunnelled, policy);
    if (reason !== undefined) return reason;
  }
  return ownReason(ipv6, policy);
}

/** A cloud metadata service's host name ("Metadata.Google.Internal." included), else false. */
function isMetadataHost(hostname: string): boolean {
  return METADATA_HOSTS.has(hostname.toLowerCase().replace(/\.$/, ''));
}

/** Throws AddressRefusedError when `address` (an IP literal) is refused for `host`. */
function assertAddressAllowed(host: string, address: string, policy: AddressPolicy): void {
  const reason = refusalReason(address, policy);
  if (reason !== undefined) throw new AddressRefusedError(host, address, reason, policy.target);
}

/** The hostname of a URL as a bare IP literal ("[::1]" → "::1"), or undefined for a name. */
function ipLiteral(hostname: string): string | undefined {
  const bare =
    hostname.startsWith('[') && hostname.endsWith(']') ? hostname.slice(1, -1) : hostname;
  return isIP(bare) === 0 ? undefined : bare;
}

/**
 * Checks a URL's host before any connection: an IP literal (Node connects to literals without any
 * lookup, so the guarded lookup below never sees them) and the names of metadata services. Other
 * names pass here: the lookup vets the addresses they resolve to.
 */
export function assertHostAllowed(url: URL, policy: AddressPolicy): void {
  const literal = ipLiteral(url.hostname);
  if (literal !== undefined) assertAddressAllowed(literal, literal, policy);
  else if (isMetadataHost(url.hostname)) {
    throw new AddressRefusedError(url.hostname, url.hostname, METADATA_RANGE);
  }
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
    if (isMetadataHost(hostname)) {
      callback(new AddressRefusedError(hostname, hostname, METADATA_RANGE), []);
      return;
    }
    dnsLookup(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) {
        callback(error, []);
        return;
      }
      for (const { address } of addresses) {
        const reason = refusalReason(address, policy);
        if (reason !== undefined) {
          callback(new AddressRefusedError(hostname, address, reason, policy.target), []);
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
  assertHostAllowed(url, policy);
  if (ipLiteral(url.hostname) !== undefined) return;
  await new Promise<void>((resolve, reject) => {
    guardedLookup(policy)(url.hostname, { all: true }, (error) => {
      if (error instanceof AddressRefusedError) reject(error);
      else resolve();
    });
  });
}
