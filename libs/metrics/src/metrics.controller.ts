import { Controller, Get, Res, UseGuards } from '@nestjs/common';
import { ApiOkResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { Registry } from 'prom-client';

import { Public } from '@nest-hardening/auth';
import { ApiErrors } from '@nest-hardening/openapi';
import { SkipRateLimit } from '@nest-hardening/rate-limit';

import { MetricsTokenGuard } from './metrics-token.guard';

/**
 * `GET /metrics` in the Prometheus text format. No access token (a scraper has no user) and never
 * rate limited (a scraper polls constantly, and must still see the app when its budgets are spent);
 * protected by `MetricsTokenGuard` when a token is configured.
 */
@ApiTags('metrics')
@Public()
@SkipRateLimit()
@UseGuards(MetricsTokenGuard)
@Controller('metrics')
export class MetricsController {
  constructor(private readonly registry: Registry) {}

  @Get()
  @ApiOkResponse({ description: 'the Prometheus text format', content: { 'text/plain': { schema: { type: 'string' } } } })
  @ApiErrors({ status: 401, description: 'a metrics token is configured and the request does not carry it' })
  async scrape(@Res({ passthrough: true }) res: Response): Promise<string> {
    res.setHeader('Content-Type', this.registry.contentType);
    return this.registry.metrics();
  }
}
