import type { IncomingHttpHeaders, OutgoingHttpHeader } from 'node:http';

import { isTighterBudget } from './rate-limit.headers';

/** The headers that describe one budget; `RateLimit-Policy` lists every policy and is merged apart. */
const BUDGET_HEADERS = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'ratelimit'] as const;

/**
 * Merges the rate-limit headers of a relayed response into the relaying gateway's.
 *
 * When a gateway relays a response from a service that limits requests itself (profile-service,
 * auth-service's `/accounts`), the response carries the service's rate-limit headers, and the
 * gateway's guard has already set its own on the same response. A proxy copies the service's over
 * the gateway's, so the client would see only the service's budget even when the gateway's is
 * nearly spent. Both budgets were charged; the client must see the tighter one, by the same rule as
 * the policies of one process ({@link isTighterBudget}), and every policy in
 * `RateLimit-Policy`. A service's 429 always keeps its own headers: its policy is the one that
 * refused, and its `Retry-After` goes with them.
 *
 * Rewrites `upstream` in place, before the proxy copies it: a header removed from it leaves the
 * gateway's value on the response.
 *
 * @param own reads a header the gateway has set on its response (`res.getHeader`)
 */
export function mergeRelayedRateLimitHeaders(
  own: (name: string) => OutgoingHttpHeader | undefined,
  upstream: IncomingHttpHeaders,
  upstreamStatus: number | undefined,
): void {
  const ownPolicies = own('ratelimit-policy');
  const upstreamPolicies = upstream['ratelimit-policy'];
  // Only one side limits this route: its headers stand as they are.
  if (ownPolicies === undefined || upstreamPolicies === undefined) return;
  upstream['ratelimit-policy'] = `${String(ownPolicies)}, ${String(upstreamPolicies)}`;
  if (upstreamStatus === 429 || isTighter(upstream, own)) return;
  for (const name of BUDGET_HEADERS) delete upstream[name];
}

/** Whether the service's budget, read from its headers, is tighter than the gateway's. */
function isTighter(upstream: IncomingHttpHeaders, own: (name: string) => OutgoingHttpHeader | undefined): boolean {
  const remaining = Number(upstream['x-ratelimit-remaining']);
  const ownRemaining = Number(own('x-ratelimit-remaining'));
  // Headers that do not parse are not trusted to override the gateway's own.
  if (!Number.isFinite(remaining) || !Number.isFinite(ownRemaining)) return false;
  return isTighterBudget(remaining, Number(upstream['x-ratelimit-reset']), ownRemaining, Number(own('x-ratelimit-reset')));
}
