import type { JsonWebKey } from 'node:crypto';

import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface AuthModuleOptions {
  /** Expected `iss` claim (required, non-empty: start-up fails otherwise). */
  issuer: string;
  /** Expected `aud` claim (required, non-empty: start-up fails otherwise). */
  audience: string;
  /** Where the public keys are published (`http://auth-service/.well-known/jwks.json`). */
  jwksUrl?: string;
  /** In auth-service itself: the public keys held in process, instead of fetching them over HTTP. */
  publicKeys?: () => JsonWebKey[];
  /** Leeway for `exp`/`nbf` between machines' clocks, 0 to 300 s. Default 5. */
  clockToleranceSeconds?: number;
  /**
   * When true, a missing or invalid token does not stop the request in `AccessTokenGuard`; the
   * rejection is recorded and `AuthenticationRequiredGuard`, registered after the rate limiter,
   * answers 401. So refused requests still spend their IP's rate-limit budget (the gateway).
   */
  deferRejection?: boolean;
  /** Verified tokens remembered until they expire (0 disables). Default 10 000. */
  verifiedTokenCacheSize?: number;
  /** Minimum time between two JWKS fetches triggered by an unknown `kid` (protects auth-service from floods). */
  jwksRefetchCooldownMs?: number;
  /** The JWKS is re-read in the background once this old (default 60 s); a rotation waits longer than this between steps. */
  jwksMaxAgeMs?: number;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS } = new ConfigurableModuleBuilder<AuthModuleOptions>({
  moduleName: 'Auth',
})
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
