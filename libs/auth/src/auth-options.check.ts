import { shownOptionValue } from '@nest-hardening/errors';

import type { AuthModuleOptions } from './auth.module-definition';

/**
 * The largest `clockToleranceSeconds`: clocks kept by NTP differ by far less, and beyond a few
 * minutes the leeway is no longer skew but a longer life for every access token, expired ones too.
 */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/**
 * Refuses, at start-up and naming the option, what would otherwise leave the guard checking less
 * than it was told to: jsonwebtoken skips the `iss` and `aud` checks when they are unset or empty
 * (`process.env.JWT_AUDIENCE!`), so every token the trusted keys signed passes, also one minted for
 * another service; an infinite clock tolerance lets expired tokens through; a NaN cache size never
 * evicts; a NaN max age never reads the set again (a withdrawn key stays trusted); and without a key
 * source, or with a url `fetch` cannot read, every token is refused.
 */
export function checkAuthOptions(options: AuthModuleOptions): void {
  const problems: string[] = [];
  for (const name of ['issuer', 'audience'] as const) {
    const value: unknown = options[name];
    if (typeof value !== 'string' || value === '') problems.push(`${name} must be a non-empty string (got ${shownOptionValue(value)})`);
  }
  const integer = (name: keyof AuthModuleOptions, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const value: unknown = options[name];
    if (value !== undefined && !(Number.isSafeInteger(value) && (value as number) >= min && (value as number) <= max)) {
      problems.push(`${name} must be a whole number from ${min} to ${max} (got ${shownOptionValue(value)})`);
    }
  };
  integer('clockToleranceSeconds', 0, MAX_CLOCK_TOLERANCE_SECONDS);
  integer('verifiedTokenCacheSize', 0);
  integer('jwksRefetchCooldownMs', 0);
  integer('jwksMaxAgeMs', 0);
  if (options.publicKeys === undefined && options.jwksUrl === undefined) {
    problems.push('jwksUrl or publicKeys must be given (where the keys that verify tokens come from)');
  } else if (options.publicKeys === undefined && !isHttpUrl(options.jwksUrl)) {
    // Not shown: a url may carry credentials.
    problems.push('jwksUrl must be an http:// or https:// url');
  }
  if (problems.length > 0) throw new Error(`AuthModule: ${problems.join('; ')}`);
}

function isHttpUrl(value: unknown): boolean {
  try {
    return typeof value === 'string' && ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
