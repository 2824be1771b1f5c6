import type { CommonEnv } from './common-env.schema';
import { resolveSecrets } from './resolve-secrets';

/** Values every app derives the same way from its validated settings. */

/** `/docs` is served unless turned off, and in production only when turned on: the API description helps attackers too. */
export function docsEnabled(env: { DOCS_ENABLED?: boolean; NODE_ENV: string }): boolean {
  return env.DOCS_ENABLED ?? env.NODE_ENV !== 'production';
}

/** Where auth-service publishes the keys that verify access tokens. */
export function jwksUrlOf(authServiceUrl: string): string {
  return new URL('/.well-known/jwks.json', authServiceUrl).toString();
}

/** What an app that verifies tokens but does not issue them (the gateway, a resource service) derives. */
export interface VerifierSettings {
  pseudonymSecret: string;
  /** Signs (gateway) or verifies (services) the forwarded client address: GATEWAY_SECRET. */
  gatewaySecret: string;
  jwksUrl: string;
  /** Names of secrets that were generated for development because none was configured. */
  generatedSecrets: string[];
  docsEnabled: boolean;
}

/** Resolves such an app's secrets (generated outside production) and derives the rest, the same way for each. */
export function verifierSettings(
  app: string,
  env: Pick<CommonEnv, 'NODE_ENV' | 'GATEWAY_SECRET'> & {
    KEYS_DIR: string;
    AUTH_SERVICE_URL: string;
    PSEUDONYM_SECRET?: string;
    DOCS_ENABLED?: boolean;
  },
): VerifierSettings {
  const { values, generated } = resolveSecrets(app, env, { PSEUDONYM_SECRET: env.PSEUDONYM_SECRET, GATEWAY_SECRET: env.GATEWAY_SECRET });
  return {
    pseudonymSecret: values.PSEUDONYM_SECRET,
    gatewaySecret: values.GATEWAY_SECRET,
    jwksUrl: jwksUrlOf(env.AUTH_SERVICE_URL),
    generatedSecrets: generated,
    docsEnabled: docsEnabled(env),
  };
}
