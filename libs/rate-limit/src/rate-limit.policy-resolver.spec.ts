import { InvalidRateLimitPolicyError } from './rate-limit.invalid-policy.error';
import { resolveRateLimitPolicies } from './rate-limit.policy-resolver';

describe('resolveRateLimitPolicies', () => {
  it('gives the documented defaults without the IP ceiling', () => {
    const policies = resolveRateLimitPolicies({});
    expect(policies.map((p) => [p.name, p.limit, p.ttlMs, p.tracker, p.scope, p.onRedisError])).toEqual([
      ['general', 100, 900_000, 'user-or-ip', 'all-routes', 'memory'],
      ['auth', 5, 900_000, 'ip', 'opt-in', 'fail-closed'],
      ['refresh', 30, 900_000, 'ip', 'opt-in', 'fail-closed'],
      ['admin', 100, 900_000, 'user', 'opt-in', 'memory'],
      ['malformed', 50, 900_000, 'ip', 'opt-in', 'memory'],
      ['registration', 100, 900_000, 'global', 'opt-in', 'memory'],
    ]);
  });

  it('applies overrides and adds the IP ceiling when asked', () => {
    const policies = resolveRateLimitPolicies({ overrides: { general: { limit: 300 } }, ipCeiling: { limit: 5000 } });
    expect(policies.find((p) => p.name === 'general')?.limit).toBe(300);
    expect(policies.find((p) => p.name === 'ipCeiling')).toMatchObject({ limit: 5000, tracker: 'ip', scope: 'all-routes' });
  });

  it('rejects unusable configuration at start-up', () => {
    expect(() => resolveRateLimitPolicies({ overrides: { genral: { limit: 1 } } })).toThrow(InvalidRateLimitPolicyError);
    expect(() => resolveRateLimitPolicies({ overrides: { auth: { ttlMs: 0 } } })).toThrow(InvalidRateLimitPolicyError);
    expect(() =>
      resolveRateLimitPolicies({
        policies: [{ name: 'bad name}', limit: 1, ttlMs: 1000, tracker: 'ip', scope: 'opt-in', onRedisError: 'memory' }],
      }),
    ).toThrow(InvalidRateLimitPolicyError);
    expect(() => resolveRateLimitPolicies({ overrides: { auth: { blockMs: 0 } } })).toThrow(InvalidRateLimitPolicyError);
    expect(() => resolveRateLimitPolicies({ overrides: { auth: { blockMs: 1.5 } } })).toThrow(InvalidRateLimitPolicyError);
  });

  it('keeps an optional blockMs, and none by default', () => {
    expect(resolveRateLimitPolicies({}).every((p) => p.blockMs === undefined)).toBe(true);
    expect(resolveRateLimitPolicies({ overrides: { auth: { blockMs: 3_600_000 } } }).find((p) => p.name === 'auth')?.blockMs).toBe(
      3_600_000,
    );
  });
});
