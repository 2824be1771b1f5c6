import type { ModuleRef } from '@nestjs/core';

/**
 * The app's instance of a provider from any module, or `undefined` if the app has none (an app
 * without lockout has no `LockoutMetrics`). This is how libs/metrics reads other libraries'
 * counters without those libraries knowing about it.
 */
export function findOptionalProvider<T>(moduleRef: ModuleRef, token: abstract new (...args: never[]) => T): T | undefined;
export function findOptionalProvider<T>(moduleRef: ModuleRef, token: symbol | string): T | undefined;
export function findOptionalProvider<T>(
  moduleRef: ModuleRef,
  token: symbol | string | (abstract new (...args: never[]) => T),
): T | undefined {
  try {
    return moduleRef.get<T>(token, { strict: false });
  } catch {
    return undefined;
  }
}
