import type { INestApplication } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';

import { applyTrustedProxies, trustGatewaySignatures, type GatewayTrustOptions } from '@nest-hardening/client-ip';
import { DomainErrorFilter, type UnexpectedErrorReporter } from '@nest-hardening/errors';

import { drainOnClose } from './drain-on-close';
import { useJsonBodyParser } from './json-body-parser';
import { securityHeaders } from './security-headers';
import { applyServerTimeouts, DEFAULT_REQUEST_TIMEOUT_MS } from './server-timeouts';
import { StrictValidationPipe } from './strict-validation.pipe';
import { validationErrors } from './validation-errors';

export interface HttpAppOptions {
  trustedProxies: readonly string[];
  /** Services: believe `X-Forwarded-For` from requests the gateway signed with this secret. Not for the gateway. */
  gatewayTrust?: GatewayTrustOptions;
  /** Parse JSON bodies (services) or stream them untouched (the gateway's proxy). */
  parseBodies: boolean;
  /** Largest accepted JSON body. */
  bodyLimit?: string;
  /** Most members and array items a JSON body may hold in all (default 256); a wider one is a 400 before parsing. */
  bodyMaxMembers?: number;
  /** HSTS max-age sent on every response; 0 (the default) sends no HSTS header. */
  hstsMaxAgeSeconds?: number;
  /** Path of the app's HTML page (Swagger UI), which gets a content security policy it can run under. */
  htmlPath?: string;
  /** Time a client has to send a whole request (headers and body), default 30 s; a slower one gets 408. */
  requestTimeoutMs?: number;
  /** Receives the unexpected errors (answered 500), e.g. `SecurityEvents.captureException` for Sentry. */
  reportUnexpected?: UnexpectedErrorReporter;
}

/**
 * The HTTP settings every app shares, applied in one place so tests run exactly what production
 * runs: security headers, trusted proxies, UTF-8 JSON bodies, strict validation (unknown fields
 * are a 400), the error filter, no framework fingerprinting, and graceful shutdown.
 * On services, the gateway's signature is checked here, once per request, before any guard.
 */
export function configureHttpApp(app: INestApplication, options: HttpAppOptions): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  // First, so that every answer has them, including the body parser's refusals.
  app.use(securityHeaders({ hstsMaxAgeSeconds: options.hstsMaxAgeSeconds ?? 0, htmlPath: options.htmlPath }));
  applyTrustedProxies(app, options.trustedProxies);
  if (options.gatewayTrust) trustGatewaySignatures(app, options.gatewayTrust);
  if (options.parseBodies) useJsonBodyParser(express, options.bodyLimit ?? '100kb', options.bodyMaxMembers);
  app.useGlobalPipes(
    new StrictValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // A body that is not an object (array, string, null) is rejected, not coerced.
      forbidUnknownValues: true,
      exceptionFactory: validationErrors,
    }),
  );
  app.useGlobalFilters(new DomainErrorFilter(options.reportUnexpected));
  applyServerTimeouts(app, options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS);
  drainOnClose(app);
  // Exit (code 0) once the shutdown hooks are done, rather than send the signal again: as PID 1 of
  // a container the kernel ignores that signal, and anything still holding the event loop would
  // keep the process until the orchestrator's SIGKILL at the end of its grace period.
  app.enableShutdownHooks(undefined, { useProcessExit: true });
}
