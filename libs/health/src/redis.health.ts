import { Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';

import { InjectRedis, type RedisClient } from '@nest-hardening/redis';

@Injectable()
export class RedisHealthIndicator {
  constructor(
    @InjectRedis() private readonly client: RedisClient,
    private readonly indicators: HealthIndicatorService,
  ) {}

  async check(key = 'redis'): Promise<HealthIndicatorResult> {
    const indicator = this.indicators.check(key);
    try {
      await this.client.ping();
      return indicator.up();
    } catch {
      return indicator.down({ message: 'unreachable' });
    }
  }
}
