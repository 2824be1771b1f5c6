import { resolve } from 'node:path';

import type { CommonEnv } from './common-env.schema';
import { ConfigValidationError } from './config-validation.error';
import { loadOrCreateDevSecret, randomDevSecret } from './dev-secret';
import { LocalOnlySecretsError, MissingSecretsError } from './missing-secrets.error';

/**
 * Part of every secret value committed in this repository (docker-compose.yml): such a value is
 * public, so production refuses it as if it were missing.
 */
export const LOCAL_ONLY_MARKER = 'do-not-deploy';

/** Whether `value` is one of the published, local-only values (refused in production). */
export function isLocalOnlyValue(value: string | undefined): boolean {
  return value?.toLowerCase().includes(LOCAL_ONLY_MARKER) ?? false;
}

/** How a development value of one secret is kept in KEYS_DIR: its file name and how to make one. */
export interface DevSecretSource {
  /** Default: the variable's name in lower case (`REFRESH_TOKEN_SECRET` -> `refresh_token_secret`). */
  file?: string;
  /** Default: 32 random bytes. */
  create?: () => string;
}

export interface ResolvedSecrets<N extends string> {
  values: Record<N, string>;
  /** Names that were not set and got a development value (the app warns about each). */
  generated: N[];
}

/**
 * The one place an app's secrets are resolved. In production every secret must come from the
 * environment: one `MissingSecretsError` names all the missing ones and nothing is written to
 * KEYS_DIR; a value marked local-only (`LOCAL_ONLY_MARKER`) is refused too, and so is one value set
 * for two secrets, or for a secret and `METRICS_TOKEN`. Otherwise a missing secret is loaded from, or created in, KEYS_DIR and reported
 * in `generated`.
 *
 * @example
 * const { values, generated } = resolveSecrets('api-gateway', parsed, { PSEUDONYM_SECRET: parsed.PSEUDONYM_SECRET });
 */
export function resolveSecrets<N extends string>(
  app: string,
  env: Pick<CommonEnv, 'NODE_ENV'> & Partial<Pick<CommonEnv, 'METRICS_TOKEN'>> & { KEYS_DIR: string },
  given: Record<N, string | undefined>,
  devSources: Partial<Record<N, DevSecretSource>> = {},
): ResolvedSecrets<N> {
  const names = Object.keys(given) as N[];
  const missing = names.filter((name) => !given[name]);
  if (missing.length > 0 && env.NODE_ENV === 'production') throw new MissingSecretsError(app, missing);
  const published = names.filter((name) => isLocalOnlyValue(given[name]));
  if (published.length > 0 && env.NODE_ENV === 'production') throw new LocalOnlySecretsError(app, published);
  if (env.NODE_ENV === 'production') refuseSharedValues(app, names, given, env.METRICS_TOKEN);
  const keysDir = resolve(env.KEYS_DIR);
  const values = {} as Record<N, string>;
  for (const name of names) {
    const source = devSources[name] ?? {};
    values[name] = given[name] || loadOrCreateDevSecret(keysDir, source.file ?? name.toLowerCase(), source.create ?? randomDevSecret);
  }
  return { values, generated: missing };
}

/**
 * One key per purpose: the secrets go to different holders (the gateway and profile-service hold
 * `GATEWAY_SECRET` and `PSEUDONYM_SECRET`, auth-service alone the others, every scraper the
 * `METRICS_TOKEN`), so a value set for two of them hands one holder the other's key. Names the
 * pairs, never the value.
 */
function refuseSharedValues<N extends string>(
  app: string,
  names: N[],
  given: Record<N, string | undefined>,
  metricsToken: string | undefined,
): void {
  const shared: string[] = [];
  names.forEach((name, i) => {
    for (const other of names.slice(i + 1)) {
      if (given[name] && given[name] === given[other]) shared.push(`${name} and ${other}: must differ (one secret per purpose)`);
    }
    if (metricsToken !== undefined && given[name] === metricsToken) {
      shared.push(`METRICS_TOKEN and ${name}: must differ (every scraper holds the token)`);
    }
  });
  if (shared.length > 0) throw new ConfigValidationError(app, shared);
}
