import { Logger } from '@nestjs/common';

/** What `warnIfMemoryStoreInProduction` (@nest-hardening/redis) logs. */
const MEMORY_STORE_WARNING = /store: 'memory' with NODE_ENV=production/;

/**
 * For the specs of a library's `store: 'memory'` option, called in a `describe`: watches Nest's
 * logger warnings in each test and puts NODE_ENV back after it (the tests set it to choose whether
 * the warning is due). Returns a function giving the memory-store warnings the current test logged.
 */
export function watchMemoryStoreWarnings(): () => string[] {
  const originalNodeEnv = process.env.NODE_ENV;
  let warn: jest.SpyInstance;
  beforeEach(() => {
    warn = jest.spyOn(Logger.prototype, 'warn');
  });
  afterEach(() => {
    warn.mockRestore();
    process.env.NODE_ENV = originalNodeEnv;
  });
  return () => warn.mock.calls.map((call: unknown[]) => String(call[0])).filter((message) => MEMORY_STORE_WARNING.test(message));
}
