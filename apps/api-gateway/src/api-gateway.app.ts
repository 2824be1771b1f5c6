import type { INestApplication } from '@nestjs/common';

import { createServiceApp } from '@nest-hardening/http-app';

import { ApiGatewayModule } from './api-gateway.module';
import type { ApiGatewayConfig } from './config/api-gateway.config';
import { corsOptions } from './cors/cors-options';
import { serveGatewayDocs } from './docs/gateway-docs';
import { refuseAmbiguousPaths } from './proxy/ambiguous-paths';
import { useGatewaySecret } from './proxy/forwarded-headers';
import { refuseHeadersServicesCannotRead } from './proxy/service-header-limits';
import { endConnectionsOfUnreliableFraming } from './proxy/unreliable-framing';

/** Builds the gateway application (not yet listening); used by main.ts and by the tests. */
export async function createApiGatewayApp(config: ApiGatewayConfig): Promise<INestApplication> {
  const app = await createServiceApp(ApiGatewayModule.register(config), {
    name: 'api-gateway',
    logLevel: config.LOG_LEVEL,
    generatedSecrets: config.generatedSecrets,
    keysDir: config.KEYS_DIR,
    trustedProxies: config.TRUSTED_PROXIES,
    // Bodies are streamed to the services untouched: the gateway never parses or buffers them.
    parseBodies: false,
    hstsMaxAgeSeconds: config.HSTS_MAX_AGE_SECONDS,
    requestTimeoutMs: config.REQUEST_TIMEOUT_MS,
  });
  useGatewaySecret(app, config.gatewaySecret);
  // First of all: a request pipelined behind one of these must not be answered, not even a preflight.
  endConnectionsOfUnreliableFraming(app);
  // Before any route: a preflight is answered here, reaching no guard (no budget spent) and no
  // service. Before the refusals below too, so that a listed origin's script can read them.
  if (config.CORS_ORIGINS.length > 0) app.enableCors(corsOptions(config.CORS_ORIGINS));
  refuseHeadersServicesCannotRead(app);
  refuseAmbiguousPaths(app);
  app.setGlobalPrefix('api', { exclude: ['health', 'health/ready', 'metrics', '.well-known/jwks.json'] });
  // The API description helps an attacker as much as a developer: production serves it only on request.
  if (config.docsEnabled) serveGatewayDocs(app, config);
  return app;
}
