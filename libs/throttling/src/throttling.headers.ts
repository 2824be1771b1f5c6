import type { RateLimitCharge, RateLimitOutcome } from './throttling.store.interface';

const seconds = (ms: number): number => Math.ceil(ms / 1000);

function remaining(outcome: RateLimitOutcome): number {
  return Math.max(0, outcome.limit - outcome.count);
}

/** The outcome a client should heed: least remaining, then latest reset. */
export function mostRestrictive(outcomes: readonly RateLimitOutcome[]): RateLimitOutcome {
  return outcomes.reduce((worst, outcome) => {
    const diff = remaining(outcome) - remaining(worst);
    return diff < 0 || (diff === 0 && outcome.resetMs > worst.resetMs) ? outcome : worst;
  });
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
export function rateLimitHeaders(outcomes: readonly RateLimitOutcome[], policyHeader = rateLimitPolicyHeader(outcomes)): Record<string, string> {
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
