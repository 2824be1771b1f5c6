import { SetMetadata } from '@nestjs/common';

import { SKIP_RATE_LIMIT_METADATA } from './rate-limit.constants';

/**
 * Exempts a handler or controller from every rate-limit policy, opt-in ones included
 * (health checks, metrics scrapes). `@SkipRateLimit(false)` on a handler re-enables limiting
 * inside a skipped controller.
 *
 * @example
 * @SkipRateLimit()
 * @Get('health')
 * health() {}
 */
export const SkipRateLimit = (skip = true): MethodDecorator & ClassDecorator => SetMetadata(SKIP_RATE_LIMIT_METADATA, skip);
