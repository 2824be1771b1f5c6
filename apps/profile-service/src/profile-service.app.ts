import type { INestApplication } from '@nestjs/common';

import { createServiceApp } from '@nest-hardening/http-app';
import { serveServiceDocs } from '@nest-hardening/openapi';

import type { ProfileServiceConfig } from './config/profile-service.config';
import { ProfileServiceModule } from './profile-service.module';

/** Builds the profile-service application (not yet listening); used by main.ts and by the tests. */
export async function createProfileServiceApp(config: ProfileServiceConfig): Promise<INestApplication> {
  const app = await createServiceApp(ProfileServiceModule.register(config), {
    name: 'profile-service',
    logLevel: config.LOG_LEVEL,
    generatedSecrets: config.generatedSecrets,
    keysDir: config.KEYS_DIR,
    trustedProxies: config.TRUSTED_PROXIES,
    gatewayTrust: {
      secret: config.gatewaySecret,
      previousSecret: config.GATEWAY_SECRET_PREVIOUS,
      maxAgeMs: config.GATEWAY_SIGNATURE_MAX_AGE_MS,
    },
    parseBodies: true,
    hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  });
  // Off in production unless asked for, like auth-service's; the gateway composes its /docs from this one.
  if (config.docsEnabled) {
    serveServiceDocs(app, { title: 'profile-service', description: "The caller's profile. Through the gateway every path is under /api." });
  }
  return app;
}
