import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';

import { HealthController } from './health.controller';
import { ConfigurableModuleClass, type HealthModuleOptions } from './health.module-definition';
import { PostgresHealthIndicator } from './postgres.health';
import { RedisHealthIndicator } from './redis.health';

/**
 * `GET /health` (liveness) and `GET /health/ready` (readiness of Redis and/or Postgres).
 *
 * @example
 * HealthModule.forRoot({ redis: true, database: false })
 */
@Module({ imports: [TerminusModule], controllers: [HealthController] })
export class HealthModule extends ConfigurableModuleClass {
  static override forRoot(options: HealthModuleOptions): DynamicModule {
    const base = super.forRoot(options);
    // Only the indicators asked for are created, so a service without Postgres needs no pool.
    const indicators = [...(options.redis ? [RedisHealthIndicator] : []), ...(options.database ? [PostgresHealthIndicator] : [])];
    return { ...base, providers: [...(base.providers ?? []), ...indicators] };
  }
}
