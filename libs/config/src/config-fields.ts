import { isIP } from 'node:net';

import { z } from 'zod';

/** Reusable field parsers for environment variables (which are always strings). */

export const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

export const nonNegativeInt = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

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
          if (bits === undefined) return true;
          const n = Number(bits);
          return Number.isInteger(n) && n >= 0 && n <= (isIP(addr) === 4 ? 32 : 128);
        }),
      { message: 'must be a comma-separated list of IP addresses, CIDR ranges, "loopback" or "none"' },
    );

/** What a rate-limit policy does while Redis is unavailable: decide in this process's memory, or refuse with 503. */
export const rateLimitRedisErrorMode = (fallback: 'memory' | 'fail-closed') => z.enum(['memory', 'fail-closed']).default(fallback);

export const logLevel = () => z.enum(['fatal', 'error', 'warn', 'log', 'debug', 'verbose']).default('log');

/** An HMAC secret (at least 32 characters); optional because `resolveSecrets` generates one for development. */
export const secret = () => z.string().min(32, 'must be at least 32 characters').optional();

/** A secret that `resolveSecrets` generates in KEYS_DIR when unset outside production. */
export const generatedSecret = () => secret().meta({ defaultText: 'generated in `KEYS_DIR`' });
