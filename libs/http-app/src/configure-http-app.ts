import { type INestApplication, ValidationPipe } from '@nestjs/common';
import type { NestExpressApplication } from '@nestjs/platform-express';
import { applyTrustedProxies } from '@lib/client-ip';
import { DomainErrorFilter } from '@lib/errors';
import { exceedsJsonDepth } from './json-depth';
import { applyServerTimeouts } from './server-timeouts';

export interface HttpAppOptions {
  trustedProxies: readonly string[];
  /** Parse JSON bodies (services) or stream them untouched (the gateway's proxy). */
  parseBodies: boolean;
  /** Largest accepted JSON body. */
  bodyLimit?: string;
}

/**
 * The HTTP settings every app shares, applied in one place so tests run exactly what production
 * runs: trusted proxies, strict validation (unknown fields are a 400), the error filter, no
 * framework fingerprinting, and graceful shutdown.
 */
export function configureHttpApp(app: INestApplication, options: HttpAppOptions): void {
  const express = app as NestExpressApplication;
  express.disable('x-powered-by');
  applyTrustedProxies(app, options.trustedProxies);
  if (options.parseBodies) {
    express.useBodyParser('json', {
      limit: options.bodyLimit ?? '100kb',
      verify: (_req: unknown, _res: unknown, buf: Buffer) => {
        if (exceedsJsonDepth(buf)) throw Object.assign(new Error('JSON nested too deeply'), { status: 400, type: 'entity.too.deep' });
      },
    });
  }
  app.useGlobalPipes(
    new ValidationPipe({
      whitelist: true,
      forbidNonWhitelisted: true,
      transform: true,
      // A body that is not an object (array, string, null) is rejected, not coerced.
      forbidUnknownValues: true,
    }),
  );
  app.useGlobalFilters(new DomainErrorFilter());
  app.use((_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  applyServerTimeouts(app);
  app.enableShutdownHooks();
}
