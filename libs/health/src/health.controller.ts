import { Controller, Get, Optional } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, type HealthIndicatorFunction } from '@nestjs/terminus';
import { Public } from '@lib/auth';
import { SkipRateLimit } from '@lib/throttling';
import { PostgresHealthIndicator } from './postgres.health';
import { RedisHealthIndicator } from './redis.health';

/** Liveness and readiness; public and never rate limited (load balancers poll them constantly). */
@ApiExcludeController()
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
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  /** The process can do its work: its backing services answer. */
  @Get('ready')
  @HealthCheck()
  ready() {
    return this.health.check(this.checks);
  }
}
