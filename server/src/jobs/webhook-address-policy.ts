/**
 * Where a webhook may be sent (server-side request forgery guard). A webhook URL is chosen by an
 * ADMIN token holder, but the POST comes from the server, inside its network: without this guard
 * it could reach loopback services, the private network or the cloud metadata endpoint. Every
 * address a host name resolves to is checked, at registration and again before each delivery (DNS
 * rebinding), and the delivery connects to the checked addresses only (webhook-delivery.ts).
 */
import dns from 'node:dns';
import net from 'node:net';

import ipaddr from 'ipaddr.js';

export interface AddressPolicy {
  /** WEBHOOK_ALLOW_PRIVATE: loopback, private, CGNAT, unique-local and link-local receivers (on-premise). */
  allowPrivate: boolean;
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}

export type AddressVerdict = { allowed: true } | { allowed: false; reason: string };

/** Cloud metadata endpoints (AWS, GCP, Azure, OpenStack; AWS IPv6): refused even with WEBHOOK_ALLOW_PRIVATE. */
const METADATA_ADDRESSES = new Set(['169.254.169.254', 'fd00:ec2::254']);

/** ipaddr.js range names an on-premise receiver may use once WEBHOOK_ALLOW_PRIVATE=true. */
const PRIVATE_RANGES: Record<string, string> = {
  loopback: 'a loopback address',
  private: 'a private (RFC 1918) address',
  carrierGradeNat: 'a carrier-grade NAT (100.64.0.0/10) address',
  uniqueLocal: 'a unique-local (fc00::/7) address',
  linkLocal: 'a link-local address',
};

/** Never a receiver: these do not name one public host. */
const ALWAYS_REFUSED: Record<string, string> = {
  unspecified: 'the unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
};

/**
 * One address against the policy. Only ipaddr.js's `unicast` range (public addresses) passes by
 * default; IPv4-mapped IPv6 (::ffff:127.0.0.1) is judged as the IPv4 address it carries, and the
 * other special ranges (reserved, documentation, 6to4, NAT64, Teredo, …) are refused.
 */
export function checkAddress(address: string, policy: AddressPolicy): AddressVerdict {
  if (!ipaddr.isValid(address)) return { allowed: false, reason: `"${address}" is not an IP address` };
  // process(): an IPv4-mapped IPv6 address comes back as the IPv4 address it carries.
  const parsed = ipaddr.process(address);
  const normal = parsed.toNormalizedString();
  const shown = parsed.toString();
  if (METADATA_ADDRESSES.has(normal) || METADATA_ADDRESSES.has(shown)) return { allowed: false, reason: `${shown} is a cloud metadata address` };
  const range = parsed.range();
  if (range === 'unicast') return { allowed: true };
  if (ALWAYS_REFUSED[range]) return { allowed: false, reason: `${shown} is ${ALWAYS_REFUSED[range]}` };
  const privateKind = PRIVATE_RANGES[range];
  if (privateKind) {
    if (policy.allowPrivate) return { allowed: true };
    return { allowed: false, reason: `${shown} is ${privateKind}; set WEBHOOK_ALLOW_PRIVATE=true for a receiver on your own network` };
  }
  return { allowed: false, reason: `${shown} is in a special-purpose range (${range}), not a public address` };
}

export type Lookup = (hostname: string) => Promise<ResolvedAddress[]>;

const systemLookup: Lookup = async (hostname) => {
  const found = await dns.promises.lookup(hostname, { all: true, verbatim: true });
  return found.map((entry) => ({ address: entry.address, family: entry.family === 6 ? 6 : 4 }));
};

let lookup: Lookup = systemLookup;

/**
 * Test seam: replaces name resolution (tests cannot edit /etc/hosts or run a DNS server offline).
 * Returns the function that puts the system resolver back. Not used by the server itself.
 */
export function setWebhookLookupForTests(replacement: Lookup | undefined): () => void {
  lookup = replacement ?? systemLookup;
  return () => {
    lookup = systemLookup;
  };
}

export type TargetVerdict =
  | { allowed: true; url: URL; hostname: string; addresses: ResolvedAddress[] }
  /** `retryable`: the name did not resolve (DNS may recover); a refused address never is. */
  | { allowed: false; reason: string; retryable: boolean };

/** The host of a URL as net.connect wants it (IPv6 literals without their brackets). */
function bareHostname(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

/** Parses a webhook URL: http(s) only, nothing but a host to resolve. */
export function parseWebhookUrl(raw: string): { url: URL } | { reason: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { reason: 'it is not a URL' };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { reason: `it must be an http(s) URL, not ${url.protocol}` };
  if (!url.hostname) return { reason: 'it has no host' };
  return { url };
}

/**
 * Resolves the URL's host (every address: dns.lookup all:true) and refuses it if any address is
 * refused, so a name with one public and one internal address cannot pick the internal one later.
 * An IP literal is checked as it is (WHATWG URL parsing has already normalised 0x7f.1 and the like).
 */
export async function resolveWebhookTarget(raw: string, policy: AddressPolicy): Promise<TargetVerdict> {
  const parsed = parseWebhookUrl(raw);
  if ('reason' in parsed) return { allowed: false, reason: parsed.reason, retryable: false };
  const { url } = parsed;
  const hostname = bareHostname(url);
  let addresses: ResolvedAddress[];
  const literal = net.isIP(hostname);
  if (literal) addresses = [{ address: hostname, family: literal === 6 ? 6 : 4 }];
  else {
    try {
      addresses = await lookup(hostname);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return { allowed: false, reason: `could not resolve ${hostname}${code ? ` (${code})` : ''}`, retryable: true };
    }
    if (addresses.length === 0) return { allowed: false, reason: `${hostname} resolved to no address`, retryable: true };
  }
  for (const entry of addresses) {
    const verdict = checkAddress(entry.address, policy);
    if (!verdict.allowed) {
      const reason = literal ? verdict.reason : `${hostname} resolves to a refused address: ${verdict.reason}`;
      return { allowed: false, reason, retryable: false };
    }
  }
  return { allowed: true, url, hostname, addresses };
}
