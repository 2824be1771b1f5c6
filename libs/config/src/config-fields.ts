import { BlockList, isIP } from 'node:net';

import { z } from 'zod';

/** Reusable field parsers for environment variables (which are always strings). */

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/**
 * The longest delay a Node timer takes (2^31 - 1 ms, about 24.8 days). A longer one fires after
 * 1 ms instead (TimeoutOverflowWarning), and so do setInterval, AbortSignal.timeout, socket timeouts
 * and the timeouts of ioredis, pg and undici, which are built on them.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** A duration in milliseconds that arms a timer (a timeout or an interval): at most {@link MAX_TIMER_MS}. */
export const timerMs = (fallback: number) =>
  z.coerce
    .number()
    .int()
    .positive()
    .max(MAX_TIMER_MS, `must be at most ${MAX_TIMER_MS} (about 24.8 days), the longest timer Node runs`)
    .default(fallback);

export const bool = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .default(fallback ? 'true' : 'false')
    .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** Like `bool`, but undefined when unset, for settings whose default depends on another one. */
export const optionalBool = () =>
  z
    .enum(['true', 'false', '1', '0', 'yes', 'no'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true' || v === '1' || v === 'yes'));

export const url = (protocols: readonly string[], fallback?: string) => {
  const base = z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol.replace(/:$/, ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL with scheme ${protocols.join(' or ')}` },
  );
  return fallback === undefined ? base : base.default(fallback);
};

/** A comma-separated list of IP addresses or CIDR ranges, or the keywords proxy-addr understands. */
const PROXY_KEYWORDS = new Set(['loopback', 'linklocal', 'uniquelocal']);
export const ipList = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0 && s !== 'none'),
    )
    .refine(
      (items) =>
        items.every((item) => {
          if (PROXY_KEYWORDS.has(item)) return true;
          const [addr, bits, extra] = item.split('/');
          if (extra !== undefined || isIP(addr) === 0) return false;
          // A zone id as proxy-addr (ipaddr.js) reads it: letters and digits only, where Node's isIP
          // also takes '-', '.' and ':' (eth-0, en0.100), which made Express throw at start-up.
          const zone = addr.indexOf('%');
          if (zone !== -1 && !/^[0-9a-z]+$/i.test(addr.slice(zone + 1))) return false;
          if (bits === undefined) return true;
          // As proxy-addr (Express) reads a prefix: decimal digits only, and never 0, which would
          // trust every peer; anything else makes Express throw at start-up.
          if (!/^\d{1,3}$/.test(bits)) return false;
          const n = Number(bits);
          // Express matches IPv4 peers against an IPv4-mapped range: ::ffff:0:0/96 is 0.0.0.0/0.
          if (isIpv4Mapped(addr) && n <= 96) return false;
          return n >= 1 && n <= (isIP(addr) === 4 ? 32 : 128);
        }),
      {
        message:
          'must be a comma-separated list of IP addresses, CIDR ranges (prefix 1 to 32, or 1 to 128 for IPv6, 97 to 128 for an IPv4-mapped ::ffff: range), "loopback" or "none"',
      },
    );

const IPV4_MAPPED = new BlockList();
IPV4_MAPPED.addSubnet('::ffff:0:0', 96, 'ipv6');

/** Whether `addr` (a valid IP, zone id allowed) is an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`). */
function isIpv4Mapped(addr: string): boolean {
  const host = addr.split('%')[0];
  return isIP(host) === 6 && IPV4_MAPPED.check(host, 'ipv6');
}

/** What a rate-limit policy does while Redis is unavailable: decide in this process's memory, or refuse with 503. */
export const rateLimitRedisErrorMode = (fallback: 'memory' | 'fail-closed') => z.enum(['memory', 'fail-closed']).default(fallback);

export const logLevel = () => z.enum(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']).default('log');

/** An HMAC secret (at least 32 characters); optional because `resolveSecrets` generates one for development. */
export const secret = () => z.string().min(32, 'must be at least 32 characters').optional();

/** A secret that `resolveSecrets` generates in KEYS_DIR when unset outside production. */
export const generatedSecret = () => secret().meta({ defaultText: 'generated in `KEYS_DIR`' });
