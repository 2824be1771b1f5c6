import { SkipThrottle, Throttle } from '@nestjs/throttler';

import { THROTTLER_LIMIT, THROTTLER_SKIP, THROTTLER_TTL } from './rate-limit.constants';

describe("@nestjs/throttler's decorator metadata keys", () => {
  it('are the keys RateLimitGuard reads', () => {
    class Routes {
      @Throttle({ general: { limit: 7, ttl: 1234 } })
      @SkipThrottle({ auth: true })
      route(): void {}
    }
    const handler = Object.getOwnPropertyDescriptor(Routes.prototype, 'route')?.value as () => void;
    expect(Reflect.getMetadata(`${THROTTLER_LIMIT}general`, handler)).toBe(7);
    expect(Reflect.getMetadata(`${THROTTLER_TTL}general`, handler)).toBe(1234);
    expect(Reflect.getMetadata(`${THROTTLER_SKIP}auth`, handler)).toBe(true);
  });
});
