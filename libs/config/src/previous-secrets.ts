import type { CommonEnv } from './common-env.schema';
import { ConfigValidationError } from './config-validation.error';
import { LocalOnlySecretsError } from './missing-secrets.error';
import { isLocalOnlyValue } from './resolve-secrets';

/**
 * Checks the `<NAME>_PREVIOUS` values of secrets under rotation against the values `<NAME>` resolved
 * to. One equal to its secret is a rotation step done wrong, and for `LOCKOUT_SECRET` it would move
 * lockout state onto its own names, erasing it at every login attempt. In production a value published
 * in this repository is refused, as `resolveSecrets` refuses it for the secret itself: a previous
 * value verifies as much as the current one. Names the variables, never their values.
 *
 * @example
 * checkPreviousSecrets('auth-service', parsed, { LOCKOUT_SECRET: [values.LOCKOUT_SECRET, parsed.LOCKOUT_SECRET_PREVIOUS] });
 */
export function checkPreviousSecrets(
  app: string,
  env: Pick<CommonEnv, 'NODE_ENV'>,
  pairs: Record<string, [current: string, previous: string | undefined]>,
): void {
  const given = Object.entries(pairs).filter(([, [, previous]]) => previous !== undefined);
  const published = given.filter(([, [, previous]]) => isLocalOnlyValue(previous));
  if (published.length > 0 && env.NODE_ENV === 'production') {
    throw new LocalOnlySecretsError(
      app,
      published.map(([name]) => `${name}_PREVIOUS`),
    );
  }
  const unchanged = given.filter(([, [current, previous]]) => previous === current);
  if (unchanged.length > 0) {
    throw new ConfigValidationError(
      app,
      unchanged.map(([name]) => `${name}_PREVIOUS: must differ from ${name} (set it only during a rotation, to the old value)`),
    );
  }
}
