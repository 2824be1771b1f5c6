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
 * `RateLimit-Policy`.
 *
 * A service's 429 (a budget of its own, or a lockout) keeps its own headers and `Retry-After`,
 * unless the gateway's budget is spent and ends later: the gateway charged this request before the
 * service refused it, so a retry before the gateway's reset would meet the gateway's own 429. Then
 * the gateway's budget is shown and its reset is the `Retry-After`, which this returns: the relayed
 * answer's body must repeat it.
 *
 * Rewrites `upstream` in place, before the proxy copies it: a header removed from it leaves the
 * gateway's value on the response.
 *
 * @param own reads a header the gateway has set on its response (`res.getHeader`)
 * @returns the `Retry-After` (seconds) of a relayed 429 that the gateway's own budget decides, else undefined
 */
export function mergeRelayedRateLimitHeaders(
  own: (name: string) => OutgoingHttpHeader | undefined,
  upstream: IncomingHttpHeaders,
  upstreamStatus: number | undefined,
): number | undefined {
  const ownPolicies = own('ratelimit-policy');
  // The gateway does not limit this route: the service's headers stand as they are.
  if (ownPolicies === undefined) return undefined;
  const upstreamPolicies = upstream['ratelimit-policy'];
  if (upstreamPolicies !== undefined) upstream['ratelimit-policy'] = `${String(ownPolicies)}, ${String(upstreamPolicies)}`;
  if (upstreamStatus === 429) {
    const retryAfter = ownRetryAfter(upstream, own);
    if (retryAfter === undefined) return undefined;
    upstream['retry-after'] = String(retryAfter);
    for (const name of BUDGET_HEADERS) delete upstream[name];
    return retryAfter;
  }
  // Only the gateway limits this route, or the service's budget is tighter: the headers stand.
  if (upstreamPolicies !== undefined && !isTighter(upstream, own)) for (const name of BUDGET_HEADERS) delete upstream[name];
  return undefined;
}

/** Whether the service's budget, read from its headers, is tighter than the gateway's. */
function isTighter(upstream: IncomingHttpHeaders, own: (name: string) => OutgoingHttpHeader | undefined): boolean {
  const remaining = Number(upstream['x-ratelimit-remaining']);
  const ownRemaining = Number(own('x-ratelimit-remaining'));
  // Headers that do not parse are not trusted to override the gateway's own.
  if (!Number.isFinite(remaining) || !Number.isFinite(ownRemaining)) return false;
  return isTighterBudget(remaining, Number(upstream['x-ratelimit-reset']), ownRemaining, Number(own('x-ratelimit-reset')));
}

/** The gateway's reset, when its own budget is spent and ends after the service's `Retry-After`. */
function ownRetryAfter(upstream: IncomingHttpHeaders, own: (name: string) => OutgoingHttpHeader | undefined): number | undefined {
  if (Number(own('x-ratelimit-remaining')) !== 0) return undefined;
  const ownReset = Number(own('x-ratelimit-reset'));
  const retryAfter = Number(upstream['retry-after']);
  if (!Number.isSafeInteger(ownReset) || !(ownReset > retryAfter)) return undefined;
  return ownReset;
}
