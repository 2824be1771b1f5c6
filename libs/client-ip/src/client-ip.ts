import { isIP, isIPv4, isIPv6 } from 'node:net';

import type { Request } from 'express';

import { gatewayClient } from './gateway-trust';

/**
 * The client address of a request: on a service, the address a verified gateway signature vouched
 * for ({@link trustGatewaySignatures}); otherwise Express computes `req.ip` from the socket and, only for hops
 * that match the `trust proxy` list installed by {@link applyTrustedProxies}, from
 * `X-Forwarded-For` read right to left, so a client cannot choose its own address by sending the
 * header. IPv4-mapped IPv6 addresses (`::ffff:1.2.3.4`) are reported as plain IPv4.
 */
export function clientIp(req: Request): string {
  const vouched = gatewayClient(req);
  if (vouched !== undefined) return normalizeIp(vouched);
  // Without X-Forwarded-For, Express's `req.ip` is the socket address whatever proxies are trusted;
  // reading it directly skips proxy-addr's header walk on every direct request (rate limiting asks
  // on every request).
  const ip = req.headers['x-forwarded-for'] === undefined ? req.socket.remoteAddress : forwardedAddress(req);
  return normalizeIp(ip ?? '0.0.0.0');
}

const WITH_PORT = /^(?:\[([0-9a-f:.]+)\]|(\d+\.\d+\.\d+\.\d+)):\d{1,5}$/i;

/**
 * `req.ip` as a trusted proxy wrote it into `X-Forwarded-For`. Some load balancers write
 * `address:port` (`[v6]:port`): the port is dropped, or each client connection would get a budget
 * of its own. Anything else that is no address is charged to the hop that sent it.
 */
function forwardedAddress(req: Request): string | undefined {
  const ip = req.ip;
  if (ip === undefined || isIP(ip) !== 0) return ip;
  const withPort = WITH_PORT.exec(ip);
  const address = withPort ? (withPort[1] ?? withPort[2]) : undefined;
  return address !== undefined && isIP(address) !== 0 ? address : req.socket.remoteAddress;
}

/**
 * One spelling per address, so that a client keeps one rate-limit, lockout and session identity
 * however a proxy writes it: an IPv4 client written as IPv6 in any notation, IPv4-mapped
 * (`::ffff:10.7.1.1`, `::ffff:a07:101`, `0:0:0:0:0:ffff:10.7.1.1`) or in the NAT64 well-known
 * prefix (`64:ff9b::10.7.1.1`), becomes plain IPv4, and IPv6 takes its RFC 5952 text form (lower
 * case, no leading zeros, the longest run of zero groups as `::`).
 */
export function normalizeIp(ip: string): string {
  // Runs on every request: a plain IPv4 address (no colon) needs no parsing.
  if (!ip.includes(':')) return ip;
  // What Node's sockets report for IPv4 clients of a dual-stack server.
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1];
  if (!isIPv6(ip)) return ip.toLowerCase();
  const groups = ipv6Groups(ip);
  if (embedsIPv4Client(groups)) return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.');
  return ipv6Text(groups);
}

/**
 * Whether the address is an IPv4 client's: IPv4-mapped (`::ffff:0:0/96`, a dual-stack socket) or in
 * the NAT64 well-known prefix (`64:ff9b::/96`, RFC 6052), which a NAT46/SIIT translator in front of
 * an IPv6-only gateway gives every IPv4 client. Read as IPv6, all of those would be one /64: one
 * login budget and one lockout address for every IPv4 client of the service.
 */
function embedsIPv4Client([a, b, c, d, e, f]: readonly number[]): boolean {
  if (c !== 0 || d !== 0 || e !== 0) return false;
  return (a === 0 && b === 0 && f === 0xffff) || (a === 0x64 && b === 0xff9b && f === 0);
}

/** RFC 5952 §4: the longest run of two or more zero groups (the first of equals) becomes `::`. */
function ipv6Text(groups: readonly number[]): string {
  let [runStart, runLength] = [-1, 1];
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > runLength) [runStart, runLength] = [i, j - i];
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (runStart < 0) return hex.join(':');
  return `${hex.slice(0, runStart).join(':')}::${hex.slice(runStart + runLength).join(':')}`;
}

/** Expands an IPv6 address into its 8 groups (handles `::` and an embedded IPv4 tail). */
function ipv6Groups(ip: string): number[] {
  let address = ip.split('%')[0];
  const v4Tail = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (v4Tail) {
    const [a, b, c, d] = v4Tail[1].split('.').map(Number);
    address = address.slice(0, -v4Tail[1].length) + `${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = address.split('::');
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const missing = tail === undefined ? 0 : 8 - headGroups.length - tailGroups.length;
  return [...headGroups, ...Array<string>(missing).fill('0'), ...tailGroups].map((g) => parseInt(g, 16) || 0);
}

/**
 * The network an address belongs to, for rate limiting and fingerprint comparison:
 * the address's first `v4Bits` (IPv4) or `v6Bits` (IPv6) bits, as a CIDR string.
 * One IPv6 host usually owns a whole /64, so limiting per address would let it rotate forever.
 */
export function networkPrefix(ip: string, v4Bits: number, v6Bits: number): string {
  const address = normalizeIp(ip);
  if (isIPv4(address)) {
    const n = address.split('.').reduce((acc, octet) => (acc << 8) + Number(octet), 0) >>> 0;
    const masked = v4Bits === 0 ? 0 : (n & (~0 << (32 - v4Bits))) >>> 0;
    return `${[24, 16, 8, 0].map((s) => (masked >>> s) & 255).join('.')}/${v4Bits}`;
  }
  if (isIPv6(address)) {
    const groups = ipv6Groups(address);
    const out = groups.map((g, i) => {
      const bitsLeft = Math.max(0, Math.min(16, v6Bits - i * 16));
      return bitsLeft === 0 ? 0 : g & (0xffff << (16 - bitsLeft)) & 0xffff;
    });
    return `${out.map((g) => g.toString(16)).join(':')}/${v6Bits}`;
  }
  return address;
}

/** The rate-limiting identity of an address: IPv4 as is, IPv6 grouped by /64. */
export function rateLimitIpKey(ip: string): string {
  const address = normalizeIp(ip);
  return address.includes(':') && isIPv6(address) ? networkPrefix(address, 32, 64) : address;
}
