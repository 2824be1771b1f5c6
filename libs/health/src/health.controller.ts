import { Controller, Get, Optional } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags, type SchemaObject } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthIndicatorFunction } from '@nestjs/terminus';

import { Public } from '@nest-hardening/auth';
import { SkipRateLimit } from '@nest-hardening/rate-limit';

import { PostgresHealthIndicator } from './postgres.health';
import { RedisHealthIndicator } from './redis.health';

/** The body terminus answers readiness with, up or down. */
const HEALTH_CHECK_RESULT: SchemaObject = {
  type: 'object',
  properties: {
    status: { type: 'string', enum: ['ok', 'error', 'shutting_down'] },
    info: { type: 'object', additionalProperties: true },
    error: { type: 'object', additionalProperties: true },
    details: { type: 'object', additionalProperties: true },
  },
  required: ['status', 'details'],
};

/** Liveness and readiness; public and never rate limited (load balancers poll them constantly). */
@ApiTags('health')
@Public()
@SkipRateLimit()
@Controller('health')
export class HealthController {
  private readonly checks: HealthIndicatorFunction[] = [];

  constructor(
    private readonly health: HealthCheckService,
    // HealthModule.forRoot registers only the indicators the app asked for.
    @Optional() redis?: RedisHealthIndicator,
    @Optional() postgres?: PostgresHealthIndicator,
  ) {
    if (redis) this.checks.push(() => redis.check());
    if (postgres) this.checks.push(() => postgres.check());
  }

  /** The process is up and serving HTTP. */
  @Get()
  @ApiOkResponse({ schema: { type: 'object', properties: { status: { type: 'string', enum: ['ok'] } }, required: ['status'] } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** The process can do its work: its backing services answer. */
  @Get('ready')
  @HealthCheck()
  @ApiOkResponse({ description: 'every backing service answers', schema: HEALTH_CHECK_RESULT })
  @ApiServiceUnavailableResponse({
    description: "a backing service does not answer (terminus' result, not the error schema)",
    schema: HEALTH_CHECK_RESULT,
  })
  ready() {
    return this.health.check(this.checks);
  }
}
