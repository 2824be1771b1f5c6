import type { CommonEnv } from './common-env.schema';
import { ConfigValidationError } from './config-validation.error';
import { LocalOnlySecretsError } from './missing-secrets.error';
import { isLocalOnlyValue } from './resolve-secrets';

/**
 * Checks the `<NAME>_PREVIOUS` values of secrets under rotation against the values `<NAME>` resolved
 * to. One equal to its secret is a rotation step done wrong, and for `LOCKOUT_SECRET` it would move
 * lockout state onto its own names, erasing it at every login attempt. In production a value published
 * in this repository is refused, as `resolveSecrets` refuses it for the secret itself: a previous
 * value verifies as much as the current one; for the same reason a previous value equal to another of
 * the app's secrets (`secrets`, every one by name) or previous values is refused, as `resolveSecrets`
 * refuses one value for two secrets. Names the variables, never their values.
 *
 * @example
 * checkPreviousSecrets('auth-service', parsed, { LOCKOUT_SECRET: [values.LOCKOUT_SECRET, parsed.LOCKOUT_SECRET_PREVIOUS] }, values);
 */
export function checkPreviousSecrets(
  app: string,
  env: Pick<CommonEnv, 'NODE_ENV'>,
  pairs: Record<string, [current: string, previous: string | undefined]>,
  secrets: Record<string, string>,
): void {
  const given = Object.entries(pairs).filter(([, [, previous]]) => previous !== undefined);
  const published = given.filter(([, [, previous]]) => isLocalOnlyValue(previous));
  if (published.length > 0 && env.NODE_ENV === 'production') {
    throw new LocalOnlySecretsError(
      app,
      published.map(([name]) => `${name}_PREVIOUS`),
    );
  }
  if (env.NODE_ENV === 'production') refuseValuesOfOtherSecrets(app, given, secrets);
  const unchanged = given.filter(([, [current, previous]]) => previous === current);
  if (unchanged.length > 0) {
    throw new ConfigValidationError(
      app,
      unchanged.map(([name]) => `${name}_PREVIOUS: must differ from ${name} (set it only during a rotation, to the old value)`),
    );
  }
}

/** Each previous value against every other secret of the app, and against the previous values after it. */
function refuseValuesOfOtherSecrets(app: string, given: [string, [string, string | undefined]][], secrets: Record<string, string>): void {
  const shared: string[] = [];
  given.forEach(([name, [, previous]], i) => {
    // Equal to its own secret is reported by the caller, with how to set it.
    const others = Object.entries(secrets).filter(([other]) => other !== name);
    for (const [laterName, [, laterPrevious]] of given.slice(i + 1)) others.push([`${laterName}_PREVIOUS`, laterPrevious as string]);
    for (const [other, value] of others) {
      if (value === previous) shared.push(`${name}_PREVIOUS and ${other}: must differ (one secret per purpose)`);
    }
  });
  if (shared.length > 0) throw new ConfigValidationError(app, shared);
}
