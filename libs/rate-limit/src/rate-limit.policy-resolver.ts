import { checkRateLimitOptions } from './rate-limit-options.check';
import { InvalidRateLimitPolicyError } from './rate-limit.invalid-policy.error';
import type { RateLimitModuleOptions } from './rate-limit.module-definition';
import { DEFAULT_IP_CEILING_POLICY, DEFAULT_RATE_LIMIT_POLICIES, type RateLimitPolicyDefinition } from './rate-limit.policy';

const NAME = /^[A-Za-z0-9_-]{1,64}$/;
const TRACKERS = new Set(['user-or-ip', 'ip', 'user', 'global']);
const SCOPES = new Set(['all-routes', 'opt-in']);
const MODES = new Set(['memory', 'fail-closed']);

function validate(policy: RateLimitPolicyDefinition): RateLimitPolicyDefinition {
  const fail = (what: string) => new InvalidRateLimitPolicyError(`Rate-limit policy "${policy.name}": ${what}`);
  // The name is part of Redis keys and of response headers: keep it to a safe alphabet.
  if (!NAME.test(policy.name)) throw fail('name must match [A-Za-z0-9_-]{1,64}');
  if (!Number.isSafeInteger(policy.limit) || policy.limit < 0) throw fail('limit must be an integer >= 0');
  if (!Number.isSafeInteger(policy.ttlMs) || policy.ttlMs < 1) throw fail('ttlMs must be an integer >= 1');
  if (!TRACKERS.has(policy.tracker)) throw fail(`unknown tracker "${String(policy.tracker)}"`);
  if (!SCOPES.has(policy.scope)) throw fail(`unknown scope "${String(policy.scope)}"`);
  if (!MODES.has(policy.onRedisError)) throw fail(`unknown onRedisError "${String(policy.onRedisError)}"`);
  if (policy.blockMs !== undefined && (!Number.isSafeInteger(policy.blockMs) || policy.blockMs < 1)) {
    throw fail('blockMs must be an integer >= 1 when set');
  }
  return Object.freeze({ ...policy });
}

/** The effective, validated policy list of a module configuration. */
export function resolveRateLimitPolicies(options: RateLimitModuleOptions): readonly RateLimitPolicyDefinition[] {
  const base = [...(options.policies ?? DEFAULT_RATE_LIMIT_POLICIES)];
  if (options.ipCeiling) {
    base.push({ ...DEFAULT_IP_CEILING_POLICY, ...(options.ipCeiling === true ? {} : options.ipCeiling) });
  }
  const names = new Set<string>();
  for (const policy of base) {
    if (names.has(policy.name)) throw new InvalidRateLimitPolicyError(`Rate-limit policy "${policy.name}" is defined twice`);
    names.add(policy.name);
  }
  for (const name of Object.keys(options.overrides ?? {})) {
    if (!names.has(name)) throw new InvalidRateLimitPolicyError(`Override for unknown rate-limit policy "${name}"`);
  }
  checkRateLimitOptions(options, names);
  return Object.freeze(base.map((policy) => validate({ ...policy, ...options.overrides?.[policy.name], name: policy.name })));
}
