import type { HeaderObject } from '@nestjs/swagger';

const integer = (description: string): HeaderObject => ({ description, schema: { type: 'integer', minimum: 0 } });
const text = (description: string, example: string): HeaderObject => ({ description, schema: { type: 'string', example } });

/**
 * The headers `RateLimitGuard` sets on every response of a rate-limited route (see `libs/rate-limit`,
 * `rateLimitHeaders`): the most restrictive budget, and the IETF draft fields.
 */
export const RATE_LIMIT_HEADERS: Readonly<Record<string, HeaderObject>> = {
  'X-RateLimit-Limit': integer('requests allowed in the window of the most restrictive budget'),
  'X-RateLimit-Remaining': integer('requests left in that window'),
  'X-RateLimit-Reset': integer('seconds until that window resets'),
  RateLimit: text(
    'draft-ietf-httpapi-ratelimit-headers: the most restrictive budget, remaining `r`, reset `t` (seconds)',
    '"auth";r=4;t=900',
  ),
  'RateLimit-Policy': text('every budget the route spends: quota `q` per window `w` (seconds)', '"general";q=100;w=900, "auth";q=5;w=900'),
};

/** Seconds to wait, rounded up, never before the real reset (429), or before retrying after an outage (503). */
export const RETRY_AFTER_HEADER: HeaderObject = integer('seconds to wait before retrying');

/** The same headers, marked as always present (for answers that are sure to carry them). */
export function required(headers: Readonly<Record<string, HeaderObject>>): Record<string, HeaderObject> {
  return Object.fromEntries(Object.entries(headers).map(([name, header]) => [name, { ...header, required: true }]));
}
