import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { configureHttpApp, ExpressHttpAdapter, warnAboutDevSecrets } from '@nest-hardening/http-app';
import { serveServiceDocs } from '@nest-hardening/openapi';
import { JsonLogger, logLevelsFrom } from '@nest-hardening/security-events';
import { AuthServiceModule } from './auth-service.module';
import type { AuthServiceConfig } from './config/auth-service.config';

/** Builds the auth-service application (not yet listening); used by main.ts and by the tests. */
export async function createAuthServiceApp(config: AuthServiceConfig): Promise<INestApplication> {
  const logger = new JsonLogger('auth-service', logLevelsFrom(config.LOG_LEVEL));
  const app = await NestFactory.create(AuthServiceModule.register(config), new ExpressHttpAdapter(), {
    bodyParser: false,
    logger,
    abortOnError: false,
  });
  configureHttpApp(app, {
    trustedProxies: config.TRUSTED_PROXIES,
    gatewayTrust: { secret: config.secrets.gateway, previousSecret: config.GATEWAY_SECRET_PREVIOUS, maxAgeMs: config.GATEWAY_SIGNATURE_MAX_AGE_MS },
    parseBodies: true,
    hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS,
    htmlPath: '/docs',
  });
  warnAboutDevSecrets(config.generatedSecrets, config.KEYS_DIR);
  // The API description helps an attacker as much as a developer: production serves it only on request.
  if (config.docsEnabled) {
    serveServiceDocs(app, {
      title: 'auth-service',
      description: 'Accounts, tokens, sessions and account lockout. Through the gateway every path is under /api.',
    });
  }
  return app;
}
