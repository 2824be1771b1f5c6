import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { configureHttpApp, ExpressHttpAdapter, warnAboutDevSecrets } from '@nest-hardening/http-app';
import { serveServiceDocs } from '@nest-hardening/openapi';
import { JsonLogger, logLevelsFrom } from '@nest-hardening/security-events';
import type { ProfileServiceConfig } from './config/profile-service.config';
import { ProfileServiceModule } from './profile-service.module';

/** Builds the profile-service application (not yet listening); used by main.ts and by the tests. */
export async function createProfileServiceApp(config: ProfileServiceConfig): Promise<INestApplication> {
  const logger = new JsonLogger('profile-service', logLevelsFrom(config.LOG_LEVEL));
  const app = await NestFactory.create(ProfileServiceModule.register(config), new ExpressHttpAdapter(), {
    bodyParser: false,
    logger,
    abortOnError: false,
  });
  configureHttpApp(app, {
    trustedProxies: config.TRUSTED_PROXIES,
    gatewayTrust: { secret: config.gatewaySecret, previousSecret: config.GATEWAY_SECRET_PREVIOUS, maxAgeMs: config.GATEWAY_SIGNATURE_MAX_AGE_MS },
    parseBodies: true,
    hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS,
    htmlPath: '/docs',
  });
  warnAboutDevSecrets(config.generatedSecrets, config.KEYS_DIR);
  // Off in production unless asked for, like auth-service's; the gateway composes its /docs from this one.
  if (config.docsEnabled) {
    serveServiceDocs(app, { title: 'profile-service', description: 'The caller\'s profile. Through the gateway every path is under /api.' });
  }
  return app;
}
