import type { JsonWebKey } from 'node:crypto';

import { ConfigurableModuleBuilder } from '@nestjs/common';

export interface AuthModuleOptions {
  /** Expected `iss` claim. */
  issuer: string;
  /** Expected `aud` claim. */
  audience: string;
  /** Where the public keys are published (`http://auth-service/.well-known/jwks.json`). */
  jwksUrl?: string;
  /** In auth-service itself: the public keys held in process, instead of fetching them over HTTP. */
  publicKeys?: () => JsonWebKey[];
  /** Leeway for `exp`/`nbf` between machines' clocks. */
  clockToleranceSeconds?: number;
  /** Minimum time between two JWKS fetches triggered by an unknown `kid` (protects auth-service from floods). */
  jwksRefetchCooldownMs?: number;
}

export const { ConfigurableModuleClass, MODULE_OPTIONS_TOKEN: AUTH_MODULE_OPTIONS } =
  new ConfigurableModuleBuilder<AuthModuleOptions>({ moduleName: 'Auth' })
    .setClassMethodName('forRoot')
    .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
    .build();
