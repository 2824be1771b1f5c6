import { Test } from '@nestjs/testing';

import { SecurityEventsModule } from '@nest-hardening/security-events';

import { RATE_LIMIT_POLICIES } from './rate-limit.constants';
import { RateLimitModule } from './rate-limit.module';
import type { RateLimitModuleOptions } from './rate-limit.module-definition';

/** Why an app with these module options refused to start, or undefined (after closing it) when it started. */
async function startupError(options: Partial<Record<keyof RateLimitModuleOptions, unknown>>): Promise<string | undefined> {
  try {
    const moduleRef = await Test.createTestingModule({
      imports: [
        SecurityEventsModule.forRoot({ service: 'rate-limit-options', pseudonymKey: 'test-key' }),
        // The memory store: these settings are checked the same with Redis, and no Redis is needed here.
        RateLimitModule.forRootAsync({ useFactory: () => ({ store: 'memory', ...options }) as RateLimitModuleOptions }),
      ],
    }).compile();
    moduleRef.get(RATE_LIMIT_POLICIES);
    await moduleRef.close();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

/**
 * The settings beside the policies, as an adopter reads them from config (`Number(process.env.X)` is
 * NaN when X is unset and 0 when it is empty). Each used to start an app that limited less than
 * configured, or answered an outage with a `Retry-After` no client can read, with nothing said.
 */
describe('RateLimitModule options an adopter gets wrong', () => {
  it.each<[string, keyof RateLimitModuleOptions, unknown, RegExp]>([
    ['NaN', 'memoryFallbackMaxEntries', NaN, /memoryFallbackMaxEntries must be a whole number of at least 1 \(got NaN\)/],
    ['0', 'memoryFallbackMaxEntries', 0, /memoryFallbackMaxEntries must be a whole number of at least 1 \(got 0\)/],
    ['NaN', 'unavailableRetryAfterSec', NaN, /unavailableRetryAfterSec must be a whole number of at least 1 \(got NaN\)/],
    ['negative', 'unavailableRetryAfterSec', -30, /unavailableRetryAfterSec must be a whole number of at least 1 \(got -30\)/],
    ['a misspelt store', 'store', 'Memory', /store must be 'redis' or 'memory' \(got "Memory"\)/],
    ['a misspelt policy', 'gatewayEnforced', ['atuh'], /gatewayEnforced names unknown policy "atuh"/],
  ])('refuses to start with %s as %s, naming the option', async (_what, option, value, says) => {
    expect(await startupError({ [option]: value })).toMatch(says);
  });

  it('starts with the documented settings', async () => {
    expect(
      await startupError({ memoryFallbackMaxEntries: 10_000, unavailableRetryAfterSec: 30, gatewayEnforced: ['auth', 'refresh'] }),
    ).toBe(undefined);
  });
});
