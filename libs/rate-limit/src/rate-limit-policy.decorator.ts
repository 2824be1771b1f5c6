import { SetMetadata } from '@nestjs/common';

import { RATE_LIMIT_POLICIES_METADATA } from './rate-limit.constants';

/**
 * Makes a handler or controller spend the named opt-in policies, in addition to the all-routes
 * ones. Handler and controller names add up. An unknown name fails the request with 500 rather
 * than silently leaving the route unprotected.
 *
 * @example
 * @RateLimitPolicy('auth')
 * @Post('login')
 * login() {}
 */
export const RateLimitPolicy = (...policies: string[]): MethodDecorator & ClassDecorator =>
  SetMetadata(RATE_LIMIT_POLICIES_METADATA, policies);
