import { shownOptionValue, wholeNumberProblem } from '@nest-hardening/errors';

import type { SessionsModuleOptions } from './sessions.module-definition';

/**
 * The longest grace window: it lets concurrent tabs and a lost response reuse a just-rotated token,
 * and beyond a minute it stops being that and becomes a window in which a stolen token replays.
 */
export const MAX_REUSE_GRACE_MS = 60_000;

const POLICIES: readonly string[] = ['strict', 'log', 'off'];

/**
 * Refuses, at start-up and naming the option, values the Lua scripts would not refuse: `NaN` or
 * `Infinity` (an unset variable through `Number()`) makes a session that never ends or a cap that
 * never applies, and a misspelt policy (`'Strict'`) compares unequal to `'strict'` and so is
 * ignored. Each would leave the app running without the protection it was configured with.
 */
export function checkSessionsOptions(options: SessionsModuleOptions): void {
  const problems: string[] = [];
  const integer = (name: string, value: unknown, min: number, max?: number) => {
    const problem = wholeNumberProblem(name, value, min, max);
    if (problem) problems.push(problem);
  };
  integer('idleTtlMs', options.idleTtlMs, 1);
  integer('absoluteTtlMs', options.absoluteTtlMs, 1);
  integer('maxSessionsPerUser', options.maxSessionsPerUser, 1);
  integer('reuseGraceMs', options.reuseGraceMs, 0, MAX_REUSE_GRACE_MS);
  const fingerprint = options.fingerprint ?? {};
  for (const name of ['userAgent', 'ip'] as const) {
    if (!POLICIES.includes(fingerprint[name])) {
      problems.push(`fingerprint.${name} must be 'strict', 'log' or 'off' (got ${shownOptionValue(fingerprint[name])})`);
    }
  }
  integer('fingerprint.ipv4PrefixBits', fingerprint.ipv4PrefixBits, 0, 32);
  integer('fingerprint.ipv6PrefixBits', fingerprint.ipv6PrefixBits, 0, 128);
  if (problems.length > 0) throw new Error(`SessionsModule: ${problems.join('; ')}`);
}
