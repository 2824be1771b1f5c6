import type { INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { configureHttpApp, ExpressHttpAdapter, warnAboutDevSecrets } from '@nest-hardening/http-app';
import { JsonLogger, logLevelsFrom } from '@nest-hardening/security-events';
import { ApiGatewayModule } from './api-gateway.module';
import { corsOptions } from './cors/cors-options';
import { serveGatewayDocs } from './docs/gateway-docs';
import type { ApiGatewayConfig } from './config/api-gateway.config';
import { useGatewaySecret } from './proxy/forwarded-headers';

/** Builds the gateway application (not yet listening); used by main.ts and by the tests. */
export async function createApiGatewayApp(config: ApiGatewayConfig): Promise<INestApplication> {
  const logger = new JsonLogger('api-gateway', logLevelsFrom(config.LOG_LEVEL));
  // Bodies are streamed to the services untouched: the gateway never parses or buffers them.
  const app = await NestFactory.create(ApiGatewayModule.register(config), new ExpressHttpAdapter(), {
    bodyParser: false,
    logger,
    abortOnError: false,
  });
  configureHttpApp(app, { trustedProxies: config.TRUSTED_PROXIES, parseBodies: false, hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS, htmlPath: '/docs' });
  useGatewaySecret(app, config.gatewaySecret);
  warnAboutDevSecrets(config.generatedSecrets, config.KEYS_DIR);
  // Before any route: a preflight is answered here, reaching no guard (no budget spent) and no service.
  if (config.CORS_ORIGINS.length > 0) app.enableCors(corsOptions(config.CORS_ORIGINS));
  app.setGlobalPrefix('api', { exclude: ['health', 'health/ready', 'metrics', '.well-known/jwks.json'] });
  // The API description helps an attacker as much as a developer: production serves it only on request.
  if (config.docsEnabled) serveGatewayDocs(app, config);
  return app;
}
