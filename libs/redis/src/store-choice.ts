import { Logger } from '@nestjs/common';

/**
 * Warns once at start-up that a library keeps `what` in this process's memory instead of Redis:
 * fine for an adopter's unit tests, wrong in production (every instance counts alone, and a restart
 * forgets). The libraries have no config schema of their own; NODE_ENV is the convention every app shares.
 */
export function warnIfMemoryStoreInProduction(moduleName: string, what: string): void {
  if (process.env.NODE_ENV !== 'production') return;
  new Logger(moduleName).warn(
    `${moduleName} uses store: 'memory' with NODE_ENV=production: ${what} are per process and lost on restart. Use the Redis store in production.`,
  );
}

/** The Redis client a library's default store needs, or the start-up error that says how to provide it. */
export function requireRedisFor<T>(moduleName: string, redis: T | undefined): T {
  if (!redis) throw new Error(`${moduleName} needs the global RedisModule (or store: 'memory' in unit tests)`);
  return redis;
}
