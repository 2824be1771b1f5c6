import type { RateLimitCharge, RateLimitOutcome } from './rate-limit.store.interface';

const seconds = (ms: number): number => Math.ceil(ms / 1000);

function remaining(outcome: RateLimitOutcome): number {
  return Math.max(0, outcome.limit - outcome.count);
}

/**
 * Whether budget A is tighter than budget B: fewer requests left, or as many and a later reset.
 * The one rule for which budget the headers show, among the policies of one process and between a
 * gateway and a service it relays (`mergeRelayedRateLimitHeaders`). Plain numbers, no objects: it
 * runs on every request.
 */
export function isTighterBudget(remainingA: number, resetA: number, remainingB: number, resetB: number): boolean {
  return remainingA !== remainingB ? remainingA < remainingB : resetA > resetB;
}

/** The outcome a client should heed: the tightest budget (see {@link isTighterBudget}). */
export function mostRestrictive(outcomes: readonly RateLimitOutcome[]): RateLimitOutcome {
  return outcomes.reduce((worst, outcome) =>
    isTighterBudget(remaining(outcome), outcome.resetMs, remaining(worst), worst.resetMs) ? outcome : worst,
  );
}

/**
 * Seconds a denied client must wait: the latest reset among the denying policies, rounded up, so
 * it never points before the real unblock time (and is at least 1).
 */
export function retryAfterSeconds(outcomes: readonly RateLimitOutcome[]): number {
  const denied = outcomes.filter((outcome) => outcome.denied);
  return Math.max(1, ...denied.map((outcome) => seconds(outcome.resetMs)));
}

/**
 * The IETF `RateLimit-Policy` field: every applied policy, quota `q` per window `w` seconds. It
 * depends only on the policies, so a route with fixed budgets can compute it once.
 */
export function rateLimitPolicyHeader(policies: readonly Pick<RateLimitCharge, 'policy' | 'limit' | 'ttlMs'>[]): string {
  return policies.map((o) => `"${o.policy}";q=${o.limit};w=${seconds(o.ttlMs)}`).join(', ');
}

/**
 * Response headers for a decision: `X-RateLimit-*` for the most restrictive policy, and the IETF
 * draft-ietf-httpapi-ratelimit-headers fields `RateLimit-Policy` (see {@link rateLimitPolicyHeader};
 * pass it when already known for these policies) and `RateLimit` (the most restrictive policy,
 * remaining `r`, reset `t`).
 */
export function rateLimitHeaders(
  outcomes: readonly RateLimitOutcome[],
  policyHeader = rateLimitPolicyHeader(outcomes),
): Record<string, string> {
  const worst = mostRestrictive(outcomes);
  const left = remaining(worst);
  const reset = seconds(worst.resetMs);
  return {
    'X-RateLimit-Limit': String(worst.limit),
    'X-RateLimit-Remaining': String(left),
    'X-RateLimit-Reset': String(reset),
    'RateLimit-Policy': policyHeader,
    RateLimit: `"${worst.policy}";r=${left};t=${reset}`,
  };
}
