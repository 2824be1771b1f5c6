import { positiveInt, rateLimitRedisErrorMode } from './config-fields';

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;

type Budget<P extends string> = { [K in `RATE_LIMIT_${P}_LIMIT` | `RATE_LIMIT_${P}_WINDOW_MS`]: ReturnType<typeof positiveInt> } & {
  [K in `RATE_LIMIT_${P}_ON_REDIS_ERROR`]: ReturnType<typeof rateLimitRedisErrorMode>;
};

/**
 * The three settings of one rate-limit budget (`RATE_LIMIT_<NAME>_LIMIT`, `_WINDOW_MS`,
 * `_ON_REDIS_ERROR`), declared alike in every app that enforces it, so a budget the gateway and a
 * service both charge is configured by the same names and defaults.
 */
export function rateLimitBudget<P extends string>(
  name: P,
  budget: { limit: number; windowMs?: number; onRedisError: 'memory' | 'fail-closed'; meaning: string },
): Budget<P> {
  const label = name.toLowerCase().replace(/_/g, ' ');
  return {
    [`RATE_LIMIT_${name}_LIMIT`]: positiveInt(budget.limit).describe(budget.meaning),
    [`RATE_LIMIT_${name}_WINDOW_MS`]: positiveInt(budget.windowMs ?? FIFTEEN_MINUTES_MS).describe(`window of the ${label} budget`),
    [`RATE_LIMIT_${name}_ON_REDIS_ERROR`]: rateLimitRedisErrorMode(budget.onRedisError).describe(
      `${label} budget while Redis is unavailable`,
    ),
  } as Budget<P>;
}
