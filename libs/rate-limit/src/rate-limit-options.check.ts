import { shownOptionValue } from '@nest-hardening/errors';

import { InvalidRateLimitPolicyError } from './rate-limit.invalid-policy.error';
import type { RateLimitModuleOptions } from './rate-limit.module-definition';

const STORES: readonly unknown[] = ['redis', 'memory'];

/**
 * Refuses, at start-up and naming the option, the module settings beside the policies that would
 * otherwise be taken without a word: a fallback size of NaN never evicts (an outage lets rotating
 * addresses grow the process without bound) and one of 0 forgets every count at the next request
 * (the fallback never limits); a NaN or negative `Retry-After` is no valid header, so clients retry
 * at once during the outage; a misspelt store or gateway policy silently means something else.
 */
export function checkRateLimitOptions(options: RateLimitModuleOptions, policyNames: ReadonlySet<string>): void {
  const problems: string[] = [];
  if (options.store !== undefined && !STORES.includes(options.store)) {
    problems.push(`store must be 'redis' or 'memory' (got ${shownOptionValue(options.store)})`);
  }
  const integer = (name: keyof RateLimitModuleOptions, min: number) => {
    const value = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= min)) {
      problems.push(`${name} must be a whole number of at least ${min} (got ${shownOptionValue(value)})`);
    }
  };
  integer('memoryFallbackMaxEntries', 1);
  integer('unavailableRetryAfterSec', 1);
  for (const name of options.gatewayEnforced ?? []) {
    if (!policyNames.has(name)) problems.push(`gatewayEnforced names unknown policy ${shownOptionValue(name)}`);
  }
  if (problems.length > 0) throw new InvalidRateLimitPolicyError(`RateLimitModule: ${problems.join('; ')}`);
}
