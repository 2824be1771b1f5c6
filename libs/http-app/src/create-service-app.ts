import type { DynamicModule, INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';

import { JsonLogger, logLevelsFrom, SecurityEvents } from '@nest-hardening/security-events';

import { configureHttpApp, type HttpAppOptions } from './configure-http-app';
import { warnAboutDevSecrets } from './dev-secrets-warning';
import { ExpressHttpAdapter } from './express-http-adapter';

export interface ServiceAppOptions extends Omit<HttpAppOptions, 'htmlPath'> {
  /** The app's name in every log line. */
  name: string;
  logLevel: LogLevel;
  /** Secrets that got a development value (one warning each) and where they were written. */
  generatedSecrets: readonly string[];
  keysDir: string;
}

/**
 * Builds an app (not yet listening) the way every app here is built, so tests run exactly what
 * `main.ts` runs: JSON logs, the Express adapter without Nest's body parser, the shared HTTP settings.
 */
export async function createServiceApp(module: DynamicModule, options: ServiceAppOptions): Promise<INestApplication> {
  const { name, logLevel, generatedSecrets, keysDir, ...http } = options;
  const app = await NestFactory.create(module, new ExpressHttpAdapter(), {
    bodyParser: false,
    logger: new JsonLogger(name, logLevelsFrom(logLevel)),
    abortOnError: false,
  });
  // serviceModules() registers SecurityEvents globally: unexpected errors reach Sentry when it is configured.
  const events = app.get(SecurityEvents, { strict: false });
  configureHttpApp(app, { ...http, htmlPath: '/docs', reportUnexpected: (error) => events.captureException(error) });
  warnAboutDevSecrets(generatedSecrets, keysDir);
  return app;
}
