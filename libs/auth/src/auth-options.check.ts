import { shownOptionValue, wholeNumberProblem } from '@nest-hardening/errors';

import type { AuthModuleOptions } from './auth.module-definition';

/** The provider that runs {@link checkAuthOptions} when the app starts; nothing injects it. */
export const AUTH_OPTIONS_CHECK = Symbol('AuthOptionsCheck');

/** RFC 7519 (4.1.4): a leeway of "no more than a few minutes" for clock skew. */
export const MAX_CLOCK_TOLERANCE_SECONDS = 300;

/**
 * Refuses, at start-up and naming the option, settings the verifier would take without a word: an
 * unset or empty `issuer` or `audience` (`process.env.JWT_AUDIENCE!`) switches that claim's check
 * off, so tokens minted for any other service are accepted; NaN (an unset variable through
 * `Number()`) as a JWKS timing stops every read (no token accepted) or the background re-read (a
 * withdrawn key keeps working), and as the cache size lets the cache grow without bound.
 */
export function checkAuthOptions(options: AuthModuleOptions): void {
  const problems: string[] = [];
  const given = options as Partial<Record<keyof AuthModuleOptions, unknown>>;
  for (const name of ['issuer', 'audience'] as const) {
    if (typeof given[name] !== 'string' || given[name] === '') {
      problems.push(
        `${name} must be a non-empty string, the \`${name === 'issuer' ? 'iss' : 'aud'}\` tokens must carry (got ${shownOptionValue(given[name])})`,
      );
    }
  }
  const { jwksUrl, publicKeys } = given;
  if ((jwksUrl === undefined) === (publicKeys === undefined)) {
    problems.push('exactly one of jwksUrl and publicKeys must be set, where the keys that verify tokens come from');
  } else if (jwksUrl !== undefined && !isHttpUrl(jwksUrl)) {
    // The value is not shown: a url may carry credentials.
    problems.push(
      `jwksUrl must be an http:// or https:// url (got ${typeof jwksUrl === 'string' ? 'another string' : shownOptionValue(jwksUrl)})`,
    );
  } else if (publicKeys !== undefined && typeof publicKeys !== 'function') {
    problems.push(`publicKeys must be a function returning the public JWKs (got ${typeof publicKeys})`);
  }
  const whole = (name: keyof AuthModuleOptions, min: number, max?: number) => {
    const problem = given[name] === undefined ? undefined : wholeNumberProblem(name, given[name], min, max);
    if (problem) problems.push(problem);
  };
  whole('clockToleranceSeconds', 0, MAX_CLOCK_TOLERANCE_SECONDS);
  whole('verifiedTokenCacheSize', 0);
  whole('jwksRefetchCooldownMs', 0);
  whole('jwksMaxAgeMs', 0);
  if (problems.length > 0) throw new Error(`AuthModule: ${problems.join('; ')}`);
}

function isHttpUrl(value: unknown): boolean {
  try {
    return typeof value === 'string' && ['http:', 'https:'].includes(new URL(value).protocol);
  } catch {
    return false;
  }
}
