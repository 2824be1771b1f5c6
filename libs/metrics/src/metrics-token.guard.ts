import { createHash, timingSafeEqual } from 'node:crypto';

import { Inject, Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { Request, Response } from 'express';

import { InvalidMetricsTokenError } from './metrics.errors';
import { METRICS_MODULE_OPTIONS, type MetricsModuleOptions } from './metrics.module-definition';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Lets a scrape through when no token is configured, or when it carries
 * `Authorization: Bearer <token>`. Both sides are hashed first, so the comparison takes the same
 * time whatever the presented value and its length.
 */
@Injectable()
export class MetricsTokenGuard implements CanActivate {
  private readonly expected?: Buffer;

  constructor(@Inject(METRICS_MODULE_OPTIONS) options: MetricsModuleOptions) {
    this.expected = options.token ? digest(options.token) : undefined;
  }

  canActivate(context: ExecutionContext): boolean {
    if (!this.expected) return true;
    const http = context.switchToHttp();
    const header = http.getRequest<Request>().headers.authorization ?? '';
    const match = /^Bearer ([^\s]+)$/i.exec(header);
    // Hash and compare even when the header is malformed: no early exit to time.
    const matches = timingSafeEqual(digest(match?.[1] ?? ''), this.expected);
    if (match && matches) return true;
    http.getResponse<Response>().setHeader('WWW-Authenticate', 'Bearer realm="metrics"');
    throw new InvalidMetricsTokenError();
  }
}
