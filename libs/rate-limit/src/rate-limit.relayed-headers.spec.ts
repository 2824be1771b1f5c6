import type { IncomingHttpHeaders } from 'node:http';

import { mergeRelayedRateLimitHeaders } from './rate-limit.relayed-headers';

/** The five headers a guard sets for one budget, lower-cased as a proxy sees an upstream's. */
function budget(
  policy: string,
  limit: number,
  remaining: number,
  resetSec: number,
  policies = `"${policy}";q=${limit};w=900`,
): Record<string, string> {
  return {
    'x-ratelimit-limit': String(limit),
    'x-ratelimit-remaining': String(remaining),
    'x-ratelimit-reset': String(resetSec),
    'ratelimit-policy': policies,
    ratelimit: `"${policy}";r=${remaining};t=${resetSec}`,
  };
}

/** What the client receives: the gateway's headers, then whatever is left in the upstream's copied over them. */
function relay(own: Record<string, string>, upstream: IncomingHttpHeaders, status = 200): Record<string, unknown> {
  mergeRelayedRateLimitHeaders((name) => own[name], upstream, status);
  return { ...own, ...upstream };
}

describe('mergeRelayedRateLimitHeaders', () => {
  it("keeps the service's budget when it has fewer requests left, and lists both policies", () => {
    const sent = relay(budget('general', 100, 50, 600), budget('profile', 10, 4, 300));
    expect(sent).toMatchObject({ 'x-ratelimit-limit': '10', 'x-ratelimit-remaining': '4', ratelimit: '"profile";r=4;t=300' });
    expect(sent['ratelimit-policy']).toBe('"general";q=100;w=900, "profile";q=10;w=900');
  });

  it("keeps the gateway's budget when it has fewer requests left", () => {
    const sent = relay(budget('general', 100, 2, 600), budget('profile', 10, 9, 300));
    expect(sent).toMatchObject({
      'x-ratelimit-limit': '100',
      'x-ratelimit-remaining': '2',
      'x-ratelimit-reset': '600',
      ratelimit: '"general";r=2;t=600',
    });
    expect(sent['ratelimit-policy']).toBe('"general";q=100;w=900, "profile";q=10;w=900');
  });

  it('breaks a tie on remaining by the later reset', () => {
    expect(relay(budget('general', 100, 3, 600), budget('profile', 10, 3, 700))['x-ratelimit-reset']).toBe('700');
    expect(relay(budget('general', 100, 3, 800), budget('profile', 10, 3, 700))['x-ratelimit-reset']).toBe('800');
  });

  it("keeps a service's 429 headers and Retry-After when the gateway's budget would let the retry through", () => {
    for (const own of [budget('general', 100, 1, 800), budget('general', 100, 0, 20)]) {
      const upstream = { ...budget('profile', 10, 0, 30), 'retry-after': '30' };
      expect(mergeRelayedRateLimitHeaders((name) => own[name], upstream, 429)).toBeUndefined();
      expect({ ...own, ...upstream }).toMatchObject({ ratelimit: '"profile";r=0;t=30', 'x-ratelimit-reset': '30', 'retry-after': '30' });
    }
  });

  it("gives a service's 429 the gateway's budget and reset when that budget is spent and ends later", () => {
    const own = budget('general', 100, 0, 800);
    const upstream = { ...budget('profile', 10, 0, 30), 'retry-after': '30' };
    expect(mergeRelayedRateLimitHeaders((name) => own[name], upstream, 429)).toBe(800);
    const sent: Record<string, unknown> = { ...own, ...upstream };
    expect(sent).toMatchObject({ ratelimit: '"general";r=0;t=800', 'x-ratelimit-reset': '800', 'retry-after': '800' });
    expect(sent['ratelimit-policy']).toBe('"general";q=100;w=900, "profile";q=10;w=900');
  });

  it("gives any other 429 of the service (a lockout) the gateway's reset when its spent budget ends later", () => {
    const own = budget('auth', 5, 0, 600);
    const upstream = { 'content-type': 'application/json', 'retry-after': '60' };
    expect(mergeRelayedRateLimitHeaders((name) => own[name], upstream, 429)).toBe(600);
    expect({ ...own, ...upstream }).toMatchObject({ ratelimit: '"auth";r=0;t=600', 'retry-after': '600' });
    expect(mergeRelayedRateLimitHeaders((name) => own[name], { 'retry-after': '900' }, 429)).toBeUndefined();
  });

  it('leaves either side alone when only one of them limits the route', () => {
    const gatewayOnly = budget('general', 100, 50, 600);
    expect(relay(gatewayOnly, { 'content-type': 'application/json' })).toEqual({ ...gatewayOnly, 'content-type': 'application/json' });
    const serviceOnly = budget('profile', 10, 4, 300);
    expect(relay({}, { ...serviceOnly })).toEqual(serviceOnly);
  });

  it("does not let unparseable service values replace the gateway's", () => {
    const sent = relay(budget('general', 100, 50, 600), { ...budget('profile', 10, 4, 300), 'x-ratelimit-remaining': 'lots' });
    expect(sent).toMatchObject({ 'x-ratelimit-limit': '100', 'x-ratelimit-remaining': '50' });
  });
});
