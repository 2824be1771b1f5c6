import type { INestApplication } from '@nestjs/common';

import { createServiceApp } from '@nest-hardening/http-app';
import { serveServiceDocs } from '@nest-hardening/openapi';

import { AuthServiceModule } from './auth-service.module';
import type { AuthServiceConfig } from './config/auth-service.config';

/** Builds the auth-service application (not yet listening); used by main.ts and by the tests. */
export async function createAuthServiceApp(config: AuthServiceConfig): Promise<INestApplication> {
  const app = await createServiceApp(AuthServiceModule.register(config), {
    name: 'auth-service',
    logLevel: config.LOG_LEVEL,
    generatedSecrets: config.generatedSecrets,
    keysDir: config.KEYS_DIR,
    trustedProxies: config.TRUSTED_PROXIES,
    gatewayTrust: {
      secret: config.secrets.gateway,
      previousSecret: config.GATEWAY_SECRET_PREVIOUS,
      maxAgeMs: config.GATEWAY_SIGNATURE_MAX_AGE_MS,
    },
    parseBodies: true,
    hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  });
  // The API description helps an attacker as much as a developer: production serves it only on request.
  if (config.docsEnabled) {
    serveServiceDocs(app, {
      title: 'auth-service',
      description: 'Accounts, tokens, sessions and account lockout. Through the gateway every path is under /api.',
    });
  }
  return app;
}
